"""Formatting at the edge: money from kopecks, UTC times in the account's zone.

Numbers follow the language of the message through core.money's one formatter: Russian groups
digits with a no-break space and writes a decimal comma (3 380,00 ₽), English 3,380.00 ₽.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

from core import money as core_money

NBSP = "\u00a0"
# Set by `numbers_as`: the notation of numbers regardless of the language of the words.
_NUMBERS: ContextVar[str | None] = ContextVar("numbers", default=None)
DEFAULT_LOCALE = "ru"


@contextmanager
def numbers_as(locale: str) -> Iterator[None]:
    """Numbers in `locale`'s notation whatever the words' language: the intake API and the CLI
    explain errors in English words but with amounts as their parser reads them (1 500,00 ₽)."""
    token = _NUMBERS.set(locale)
    try:
        yield
    finally:
        _NUMBERS.reset(token)


def current_locale() -> str:
    """The language of the update or message being rendered; Russian outside one."""
    forced = _NUMBERS.get()
    if forced is not None:
        return forced
    # Imported here: the CLI formats money too and must not load aiogram (see test_architecture).
    from aiogram.utils.i18n import get_i18n

    try:
        return get_i18n().current_locale
    except LookupError:
        return DEFAULT_LOCALE


def currency_sign(currency: str = "RUB") -> str:
    return core_money.currency_sign(currency)


def number(value: int | Decimal, pattern: str = "#,##0") -> str:
    """A number grouped as the current language writes it."""
    return core_money.format_number(value, current_locale(), pattern)


def whole_money(kopecks: int, currency: str = "RUB") -> str:
    """Whole rubles, rounded half-up: 4_500_050 → '45 001 ₽' (for charts and narrow tables)."""
    return core_money.format_whole_money(kopecks, current_locale(), currency)


def money(kopecks: int, currency: str = "RUB") -> str:
    """3380_00 → '3 380,00 ₽' in Russian, '3,380.00 ₽' in English (exact: no float)."""
    return core_money.format_money(kopecks, current_locale(), currency)


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def when(moment: datetime, timezone: str) -> str:
    return local(moment, timezone).strftime("%d.%m.%Y %H:%M")


def day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def q(value: object) -> str:
    """User-provided text inside HTML messages."""
    return escape(str(value), quote=False)


def weekdays(days: str) -> str:
    """The account's working days ('12345', ISO weekdays, Monday = 1) as 'Mon, Tue, …'."""
    from aiogram.utils.i18n import gettext as _  # here: importing this module loads no aiogram

    names = {
        "1": _("Mon"),
        "2": _("Tue"),
        "3": _("Wed"),
        "4": _("Thu"),
        "5": _("Fri"),
        "6": _("Sat"),
        "7": _("Sun"),
    }
    return ", ".join(names[d] for d in sorted(days) if d in names) or "—"
