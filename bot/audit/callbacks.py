from __future__ import annotations

from datetime import date

from aiogram.filters.callback_data import CallbackData

from bot.reports.callbacks import CODES, PeriodCode, day_number, pinned
from core.audit.service import HistoryFilter
from core.reports.periods import Period, PeriodKind


class HistoryPage(CallbackData, prefix="hist"):
    page: int
    member_id: int = 0  # 0: everyone
    act: str = ""  # an action group or an exact action; "": every action
    p: PeriodCode | None = None  # None: all time
    a: int = 0  # custom period: first day, days since 01.01.2000
    b: int = 0
    e: bool = False  # edit the message shown (the history's own buttons) instead of a new one
    csv: bool = False  # send the filtered entries as a CSV file

    @classmethod
    def of(cls, wanted: HistoryFilter, page: int = 0, **flags: bool) -> HistoryPage:
        period = wanted.period
        values: dict = {"p": None, "a": 0, "b": 0}
        if period is not None and period.kind == PeriodKind.CUSTOM:
            values = {
                "p": PeriodCode.CUSTOM,
                "a": day_number(period.first),
                "b": day_number(period.last),
            }
        elif period is not None:
            values["p"] = CODES[period.kind]
        return cls(
            page=page, member_id=wanted.member_id or 0, act=wanted.action or "", **values, **flags
        )

    def period(self, today: date) -> Period | None:
        return pinned(self.p, self.a, self.b, today) if self.p else None

    def wanted(self, today: date) -> HistoryFilter:
        return HistoryFilter(self.member_id or None, self.act or None, self.period(today))
