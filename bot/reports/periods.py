"""Period names and labels, shared by /report and /history."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __

from bot.format import day
from core.reports.periods import Period, PeriodKind

PERIOD_NAMES = {
    PeriodKind.TODAY: __("Today"),
    PeriodKind.WEEK: __("7 days"),
    PeriodKind.MONTH: __("This month"),
    PeriodKind.LAST_MONTH: __("Last month"),
}


def period_text(period: Period) -> str:
    """'This month · 01.11.2026–30.11.2026', or just the days of a custom period."""
    days = day(period.first) if period.days == 1 else f"{day(period.first)}–{day(period.last)}"
    name = PERIOD_NAMES.get(period.kind)
    return f"{name} · {days}" if name is not None else days
