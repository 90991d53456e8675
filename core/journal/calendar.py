"""Calendar arithmetic in the account's time zone: months with clamped ends, local days."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time
from zoneinfo import ZoneInfo


def add_months(start: date, months: int, anchor_day: int | None = None) -> date:
    """Calendar months; the day is clamped to the month's end and recovers later.

    31 Jan + 1 month = 28 Feb (29 in a leap year); with anchor day 31, 28 Feb + 1 = 31 Mar.
    """
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def start_of_day(day: date, timezone: str) -> datetime:
    """The aware moment a local calendar day begins."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
