"""Field rules shared by every way an order comes in (HTTP API, CSV, /neworder).

Each check raises InvalidInput with a `field_*` code and the field's name, so the API can name
the field in its JSON error and the bot can say what is wrong in the member's language.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from core.errors import InvalidInput
from core.money import MAX_AMOUNT, AmountError, parse_money

MAX_KOPECKS = MAX_AMOUNT  # 100 billion rubles: anything above is a typo
_PHONE_CHARS = re.compile(r"^\+?[\d\s()\-.]{5,30}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# What PostgreSQL cannot keep in a text column: NUL, and lone surrogates (JSON's "\ud800"),
# which have no UTF-8 form. Refused at the edge, naming the field, rather than failing in the
# database with a 500.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> bool:
    """True when every character of `value` can be stored in a text column."""
    return _UNSTORABLE.search(value) is None


def required(field: str) -> InvalidInput:
    return InvalidInput("field_required", field=field)


def wrong_type(field: str, expected: str) -> InvalidInput:
    return InvalidInput("field_type", field=field, expected=expected)


def text(value: Any, field: str, *, limit: int, optional: bool = False) -> str | None:
    """A string (numbers are accepted and kept as written), stripped, 1..limit characters."""
    if value is None:
        if optional:
            return None
        raise required(field)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise wrong_type(field, "string")
    if not storable(value):
        raise InvalidInput("field_characters", field=field)
    value = value.strip()
    if not value:
        if optional:
            return None
        raise required(field)
    if len(value) > limit:
        raise InvalidInput("field_too_long", field=field, limit=limit)
    return value


def visible(value: str) -> str:
    """Without invisible characters (zero-width space, joiners, BOM, direction marks: Unicode
    category Cf), which copy-paste from chats and spreadsheets slips into numbers."""
    return "".join(c for c in value if unicodedata.category(c) != "Cf")


def number(value: Any, field: str = "number") -> str:
    if isinstance(value, str):
        value = visible(value)
    cleaned = text(value, field, limit=64)
    cleaned = cleaned.lstrip("#№").strip()
    if not cleaned or cleaned.startswith("/") or any(c.isspace() for c in cleaned):
        raise InvalidInput("field_number", field=field)
    return cleaned


def phone(value: Any, field: str = "phone") -> str | None:
    cleaned = text(value, field, limit=40, optional=True)
    if cleaned is None:
        return None
    digits = sum(c.isdigit() for c in cleaned)
    if not _PHONE_CHARS.match(cleaned) or not 5 <= digits <= 15:
        raise InvalidInput("field_phone", field=field)
    return cleaned


def email(value: Any, field: str = "email") -> str | None:
    cleaned = text(value, field, limit=200, optional=True)
    if cleaned is not None and not _EMAIL.match(cleaned):
        raise InvalidInput("field_email", field=field)
    return cleaned


def currency(value: Any, field: str = "currency") -> str | None:
    cleaned = text(value, field, limit=3, optional=True)
    if cleaned is None:
        return None
    cleaned = cleaned.upper()
    if not _CURRENCY.match(cleaned):
        raise InvalidInput("field_currency", field=field)
    return cleaned


def amount(value: Any, field: str, *, integer_is_kopecks: bool = True) -> int:
    """Money → kopecks. A string is in rubles, read by core.money ('1500.50', '12 500,50 ₽');
    an integer is kopecks (150050) in JSON. Floats are refused: 0.1 + 0.2 is not money."""
    if value is None:
        raise required(field)
    if isinstance(value, bool | float):
        raise InvalidInput("field_amount", field=field)
    if isinstance(value, int):
        kopecks = value if integer_is_kopecks else value * 100
        if kopecks > MAX_KOPECKS:
            raise InvalidInput("field_amount_too_large", field=field, maximum=MAX_KOPECKS)
        if kopecks < 0:
            raise InvalidInput("field_amount", field=field)
        return kopecks
    if not isinstance(value, str):
        raise InvalidInput("field_amount", field=field)
    if not value.strip():
        raise required(field)
    try:
        return parse_money(value, maximum=MAX_KOPECKS)
    except AmountError as exc:
        raise _amount_error(exc, field) from None


def _amount_error(error: AmountError, field: str) -> InvalidInput:
    """The parser's reason, with the field named (the API puts it in its 422 body)."""
    if error.code == "money_ambiguous":
        return InvalidInput("field_amount_ambiguous", field=field, **error.params)
    if error.code == "money_too_large":
        return InvalidInput("field_amount_too_large", field=field, maximum=MAX_KOPECKS)
    return InvalidInput("field_amount", field=field)


def quantity(value: Any, field: str) -> int:
    if value is None:
        raise required(field)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_type(field, "integer")
    if not 1 <= value <= 100_000:
        raise InvalidInput("field_range", field=field, low=1, high=100_000)
    return value


def moment(value: Any, field: str) -> datetime | None:
    """ISO 8601 with a UTC offset, e.g. 2026-11-22T12:00:00+03:00."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise wrong_type(field, "string")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("field_datetime", field=field) from None
    if parsed.tzinfo is None:
        raise InvalidInput("field_datetime", field=field)
    return parsed


def lookup_number(value: str) -> str:
    """An order number as a member types it to find one: '№10200', '#10200', ' 10200 ', with
    invisible characters; anything after it is refused (InvalidInput order_number_lookup)."""
    cleaned = visible(value or "").strip().lstrip("#№").strip()
    if not cleaned or any(c.isspace() for c in cleaned) or len(cleaned) > 64:
        raise InvalidInput("order_number_lookup", value=" ".join(value.split())[:40])
    return cleaned
