"""Money is integer kopecks everywhere; parsing and rounding helpers live here."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_AMOUNT = re.compile(r"^\d{1,12}([.,]\d{1,2})?$")


def parse_rubles(text: str) -> int:
    """'1500', '1 500,50' or '1500.5' rubles → kopecks. Raises ValueError on anything else."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("₽", "")
    if not _AMOUNT.match(cleaned):
        raise ValueError(text)
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    return int((value * 100).to_integral_value())


def percent_of(kopecks: int, percent: int | Decimal) -> int:
    """A percentage of an amount, rounded half-up to the kopeck."""
    exact = Decimal(kopecks) * Decimal(percent) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
