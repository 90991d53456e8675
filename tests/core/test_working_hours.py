"""core.accounts.hours: the working-time clock claim timers and digests run on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.accounts.hours import after_working_time, is_open, working_day, working_time_between
from core.accounts.models import Account


def _account(**kw) -> Account:
    values = dict(timezone="Europe/Moscow", work_start=9, work_end=18, work_days="12345")
    values.update(kw)
    return Account(**values)


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    # December 2026: the 7th is a Monday, the 12th a Saturday. Moscow is UTC+3.
    return datetime(2026, 12, day, hour - 3, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    "moment, expected",
    [
        (msk(7, 9), True),
        (msk(7, 8, 59), False),
        (msk(7, 17, 59), True),
        (msk(7, 18), False),
        (msk(12, 12), False),  # Saturday
    ],
)
def test_is_open(moment, expected):
    assert is_open(_account(), moment) is expected


def test_working_days_are_configurable():
    account = _account(work_days="123456")
    assert working_day(account, msk(12, 12).date())
    assert not working_day(account, msk(13, 12).date())


@pytest.mark.parametrize(
    "start, span, expected",
    [
        (msk(7, 10), timedelta(minutes=15), msk(7, 10, 15)),  # within the day
        (msk(7, 17, 50), timedelta(minutes=15), msk(8, 9, 5)),  # the clock stops overnight
        (msk(7, 3), timedelta(minutes=30), msk(7, 9, 30)),  # before opening: from opening
        (msk(11, 17, 55), timedelta(minutes=30), msk(14, 9, 25)),  # Friday → Monday
        (msk(12, 12), timedelta(minutes=15), msk(14, 9, 15)),  # Saturday → Monday
        (msk(7, 10), timedelta(hours=20), msk(9, 12)),  # longer than a working day
    ],
)
def test_after_working_time(start, span, expected):
    assert after_working_time(_account(), start, span) == expected


def test_no_working_days_means_no_deadline():
    assert after_working_time(_account(work_days=""), msk(7, 10), timedelta(minutes=15)) is None


def test_working_time_between_counts_only_open_hours():
    account = _account()
    assert working_time_between(account, msk(7, 17, 50), msk(8, 9, 5)) == timedelta(minutes=15)
    assert working_time_between(account, msk(11, 17), msk(14, 10)) == timedelta(hours=2)
    assert working_time_between(account, msk(8, 10), msk(8, 9)) == timedelta(0)
