"""Customer phones from shops → E.164 (+79161234567), as customers are keyed (core/customers)."""

from __future__ import annotations

from typing import Any

from core.accounts.service import DEFAULT_REGION
from core.customers.keys import e164
from core.orders import fields


def normalize_phone(raw: Any, region: str | None, field: str = "phone") -> str | None:
    """The shape check every intake uses (a clear error for 40 digits), then E.164 when the
    number is a possible one; otherwise the number is kept as the shop wrote it."""
    cleaned = fields.phone(raw, field)
    if cleaned is None:
        return None
    return e164(cleaned, region or DEFAULT_REGION) or cleaned
