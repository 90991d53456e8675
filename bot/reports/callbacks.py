"""Typed buttons of /report: the period, the member filter and the exports (≤ 64 bytes)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from core.errors import InvalidInput
from core.reports.periods import Period, PeriodKind, custom_period, period_of


class PeriodCode(StrEnum):
    TODAY = "t"
    WEEK = "w"
    MONTH = "m"
    LAST_MONTH = "l"
    CUSTOM = "c"  # exact days in `a`..`b`


KINDS = {
    PeriodCode.TODAY: PeriodKind.TODAY,
    PeriodCode.WEEK: PeriodKind.WEEK,
    PeriodCode.MONTH: PeriodKind.MONTH,
    PeriodCode.LAST_MONTH: PeriodKind.LAST_MONTH,
    PeriodCode.CUSTOM: PeriodKind.CUSTOM,
}
CODES = {kind: code for code, kind in KINDS.items()}


class ReportOp(StrEnum):
    SHOW = "s"
    MEMBERS = "u"  # the member picker
    BACK = "b"  # from the picker back to the report's buttons
    CSV = "f"
    ORDERS = "o"


_DAY_ZERO = date(2000, 1, 1).toordinal()


def day_number(day: date) -> int:
    """A local day as days since 01.01.2000 (short enough for callback data)."""
    return day.toordinal() - _DAY_ZERO


def from_day_number(value: int) -> date:
    try:
        return date.fromordinal(value + _DAY_ZERO)
    except (ValueError, OverflowError):
        raise InvalidInput("period_date", value=str(value)) from None


def pinned(code: PeriodCode, first: int, last: int, today: date) -> Period:
    """The period a button names: a named one as of today, or the exact days it carries."""
    kind = KINDS[code]
    if kind == PeriodKind.CUSTOM:
        return custom_period(from_day_number(first), from_day_number(last))
    return period_of(kind, today)


class ReportCb(CallbackData, prefix="rep"):
    op: ReportOp
    p: PeriodCode
    a: int = 0  # first day, days since 01.01.2000 (custom periods)
    b: int = 0  # last day
    m: int = 0  # member id; 0: everyone

    @classmethod
    def of(
        cls, op: ReportOp, period: Period, member_id: int | None, *, exact: bool = False
    ) -> ReportCb:
        """`exact` pins the days (exports must match the figures shown, even tomorrow);
        otherwise a named period is recomputed when pressed."""
        if exact or period.kind == PeriodKind.CUSTOM:
            first, last = day_number(period.first), day_number(period.last)
            return cls(op=op, p=PeriodCode.CUSTOM, a=first, b=last, m=member_id or 0)
        return cls(op=op, p=CODES[period.kind], m=member_id or 0)

    @classmethod
    def named(cls, op: ReportOp, kind: PeriodKind, member_id: int | None) -> ReportCb:
        return cls(op=op, p=CODES[kind], m=member_id or 0)

    def period(self, today: date) -> Period:
        return pinned(self.p, self.a, self.b, today)

    @property
    def member_id(self) -> int | None:
        return self.m or None
