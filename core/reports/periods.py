"""Report periods: whole local days in the account's time zone, turned into UTC bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.errors import InvalidInput

MAX_DAYS = 366
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
_CUSTOM = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})\s*[-–—]\s*(\d{1,2})\.(\d{1,2})\.(\d{4})$")


class PeriodKind(StrEnum):
    TODAY = "today"
    WEEK = "7d"  # the last 7 days, today included
    MONTH = "month"  # this calendar month
    LAST_MONTH = "last_month"
    CUSTOM = "custom"


# Words accepted after /report and /history (either language).
KEYWORDS = {
    "today": PeriodKind.TODAY,
    "сегодня": PeriodKind.TODAY,
    "7d": PeriodKind.WEEK,
    "week": PeriodKind.WEEK,
    "неделя": PeriodKind.WEEK,
    "month": PeriodKind.MONTH,
    "месяц": PeriodKind.MONTH,
    "last_month": PeriodKind.LAST_MONTH,
    "lastmonth": PeriodKind.LAST_MONTH,
    "прошлый": PeriodKind.LAST_MONTH,
}


@dataclass(frozen=True, slots=True)
class Period:
    """Local days `first`..`last`, both included."""

    kind: PeriodKind
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of `first` to local midnight after `last`."""
        zone = ZoneInfo(timezone)
        start = datetime.combine(self.first, time(), zone)
        end = datetime.combine(self.last + timedelta(days=1), time(), zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _month_start(day: date) -> date:
    return day.replace(day=1)


def period_of(kind: PeriodKind, today: date) -> Period:
    """A named period as of `today` (a local date)."""
    if kind == PeriodKind.TODAY:
        return Period(kind, today, today)
    if kind == PeriodKind.WEEK:
        return Period(kind, today - timedelta(days=6), today)
    if kind == PeriodKind.MONTH:
        start = _month_start(today)
        end = _month_start(start + timedelta(days=31)) - timedelta(days=1)
        return Period(kind, start, end)
    if kind == PeriodKind.LAST_MONTH:
        end = _month_start(today) - timedelta(days=1)
        return Period(kind, _month_start(end), end)
    raise InvalidInput("period_format", value=str(kind))


def custom_period(first: date, last: date) -> Period:
    for value in (first, last):
        if not EARLIEST <= value <= LATEST:
            raise InvalidInput("period_date", value=value.strftime("%d.%m.%Y"))
    if first > last:
        raise InvalidInput(
            "period_order", first=first.strftime("%d.%m.%Y"), last=last.strftime("%d.%m.%Y")
        )
    period = Period(PeriodKind.CUSTOM, first, last)
    if period.days > MAX_DAYS:
        raise InvalidInput("period_too_long", limit=MAX_DAYS)
    return period


def _date(day: str, month: str, year: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise InvalidInput("period_date", value=f"{day}.{month}.{year}") from None


def is_period_word(text: str) -> bool:
    """Looks like a period (for telling period arguments from others)."""
    text = text.strip().lower()
    return text in KEYWORDS or bool(re.match(r"^\d{1,2}\.\d{1,2}\.", text))


def parse_period(text: str, today: date) -> Period:
    """'today', '7d', 'month', 'last_month' (or the Russian words) or 'dd.mm.yyyy-dd.mm.yyyy'."""
    cleaned = text.strip().lower()
    if cleaned in KEYWORDS:
        return period_of(KEYWORDS[cleaned], today)
    match = _CUSTOM.match(cleaned)
    if match is None:
        raise InvalidInput("period_format", value=text.strip()[:40])
    d1, m1, y1, d2, m2, y2 = match.groups()
    return custom_period(_date(d1, m1, y1), _date(d2, m2, y2))
