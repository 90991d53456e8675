"""Customer phones from shops → E.164 (+79161234567) with `phonenumbers`."""

from __future__ import annotations

from typing import Any

import phonenumbers

from core.accounts.service import DEFAULT_REGION
from core.orders import fields


def normalize_phone(raw: Any, region: str | None, field: str = "phone") -> str | None:
    """The shape check every intake uses (a clear error for 40 digits), then E.164 when the
    number is a possible one; otherwise the number is kept as the shop wrote it."""
    cleaned = fields.phone(raw, field)
    if cleaned is None:
        return None
    try:
        parsed = phonenumbers.parse(cleaned, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return cleaned
    if not phonenumbers.is_possible_number(parsed):
        return cleaned
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
