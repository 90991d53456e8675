"""Report periods: named and custom periods, validation, UTC bounds in the account's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.errors import InvalidInput
from core.reports.periods import (
    PeriodKind,
    custom_period,
    is_period_word,
    local_today,
    parse_period,
    period_of,
)

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("today", TODAY, TODAY),
        ("сегодня", TODAY, TODAY),
        ("7d", date(2026, 11, 16), TODAY),
        ("month", date(2026, 11, 1), date(2026, 11, 30)),
        ("last_month", date(2026, 10, 1), date(2026, 10, 31)),
        ("01.11.2026-15.11.2026", date(2026, 11, 1), date(2026, 11, 15)),
        (" 1.11.2026 – 15.11.2026 ", date(2026, 11, 1), date(2026, 11, 15)),
        ("29.02.2028-29.02.2028", date(2028, 2, 29), date(2028, 2, 29)),
    ],
)
def test_parse_period(text, first, last):
    period = parse_period(text, TODAY)
    assert (period.first, period.last) == (first, last)


def test_last_month_in_january_is_december_of_last_year():
    period = period_of(PeriodKind.LAST_MONTH, date(2027, 1, 10))
    assert (period.first, period.last) == (date(2026, 12, 1), date(2026, 12, 31))
    february = period_of(PeriodKind.MONTH, date(2028, 2, 10))
    assert february.last == date(2028, 2, 29) and february.days == 29


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("yesterday", "period_format", {"value": "yesterday"}),
        ("01.11.2026", "period_format", {"value": "01.11.2026"}),
        ("2026-11-01-2026-11-15", "period_format", {"value": "2026-11-01-2026-11-15"}),
        ("31.02.2026-01.03.2026", "period_date", {"value": "31.02.2026"}),
        ("01.13.2026-01.12.2026", "period_date", {"value": "01.13.2026"}),
        ("15.11.2026-01.11.2026", "period_order", {"first": "15.11.2026", "last": "01.11.2026"}),
        ("01.01.2025-01.01.2027", "period_too_long", {"limit": 366}),
        ("01.01.1999-02.01.1999", "period_date", {"value": "01.01.1999"}),
    ],
)
def test_bad_periods_are_refused_with_a_code(text, code, params):
    with pytest.raises(InvalidInput) as error:
        parse_period(text, TODAY)
    assert error.value.code == code and error.value.params == params


def test_bounds_are_local_midnights_in_utc():
    period = custom_period(date(2026, 11, 1), date(2026, 11, 30))
    start, end = period.bounds("Europe/Moscow")
    assert start == datetime(2026, 10, 31, 21, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 30, 21, 0, tzinfo=UTC)


def test_bounds_across_a_daylight_saving_change():
    """Berlin leaves summer time on 25.10.2026: that local day lasts 25 hours."""
    start, end = custom_period(date(2026, 10, 25), date(2026, 10, 25)).bounds("Europe/Berlin")
    assert start == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


def test_local_today_turns_at_local_midnight():
    assert local_today(datetime(2026, 11, 21, 20, 59, tzinfo=UTC), "Europe/Moscow") == date(
        2026, 11, 21
    )
    assert local_today(datetime(2026, 11, 21, 21, 0, tzinfo=UTC), "Europe/Moscow") == TODAY


def test_period_words():
    assert is_period_word("Month") and is_period_word("01.11.2026-02.11.2026")
    assert not is_period_word("@petya") and not is_period_word("orders")
