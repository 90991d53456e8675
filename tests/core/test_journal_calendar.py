from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.journal.calendar import add_months, local_today, start_of_day


@pytest.mark.parametrize(
    ("start", "months", "anchor", "expected"),
    [
        (date(2027, 1, 31), 1, None, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, None, date(2028, 2, 29)),  # leap year
        (date(2027, 2, 28), 1, 31, date(2027, 3, 31)),  # the anchor day comes back
        (date(2027, 3, 31), 1, 31, date(2027, 4, 30)),
        (date(2026, 12, 15), 1, None, date(2027, 1, 15)),  # across the year
        (date(2026, 11, 30), 3, None, date(2027, 2, 28)),
        (date(2026, 11, 22), 12, None, date(2027, 11, 22)),
    ],
)
def test_calendar_months_clamp_the_day(start, months, anchor, expected):
    assert add_months(start, months, anchor) == expected


def test_local_day_begins_at_local_midnight():
    # Vladivostok is UTC+10: its 28 Feb begins at 14:00 UTC on 27 Feb.
    begins = start_of_day(date(2027, 2, 28), "Asia/Vladivostok")
    assert begins.astimezone(UTC) == datetime(2027, 2, 27, 14, 0, tzinfo=UTC)
    minute_before = datetime(2027, 2, 27, 13, 59, tzinfo=UTC)
    assert local_today(minute_before, "Asia/Vladivostok") == date(2027, 2, 27)
    assert local_today(begins, "Asia/Vladivostok") == date(2027, 2, 28)
    assert local_today(begins, "UTC") == date(2027, 2, 27)


def test_local_midnight_follows_daylight_saving_time():
    # Berlin moves to summer time on 28 Mar 2027: midnight is 23:00 UTC before, 22:00 UTC after.
    assert start_of_day(date(2027, 3, 28), "Europe/Berlin").astimezone(UTC) == datetime(
        2027, 3, 27, 23, 0, tzinfo=UTC
    )
    assert start_of_day(date(2027, 3, 29), "Europe/Berlin").astimezone(UTC) == datetime(
        2027, 3, 28, 22, 0, tzinfo=UTC
    )
