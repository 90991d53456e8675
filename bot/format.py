"""Formatting at the edge: money from kopecks, UTC times in the account's zone."""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from zoneinfo import ZoneInfo

NBSP = "\u00a0"


def money(kopecks: int, currency: str = "RUB") -> str:
    """3380_00 → '3 380,00 ₽' (the same in both languages, as Russian invoices print it)."""
    sign = "−" if kopecks < 0 else ""
    rubles, kop = divmod(abs(kopecks), 100)
    grouped = f"{rubles:,}".replace(",", NBSP)
    symbol = "₽" if currency == "RUB" else currency
    return f"{sign}{grouped},{kop:02d}{NBSP}{symbol}"


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def when(moment: datetime, timezone: str) -> str:
    return local(moment, timezone).strftime("%d.%m.%Y %H:%M")


def day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def q(value: object) -> str:
    """User-provided text inside HTML messages."""
    return escape(str(value), quote=False)
