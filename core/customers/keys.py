"""What makes two orders one customer's: the phone in E.164, else the email in lower case.

Pure functions, shared by intake (core/customers/service.py), the connectors' phone cleaning and
the migration that linked the orders stored before customers existed."""

from __future__ import annotations

import phonenumbers


def e164(raw: str | None, region: str) -> str | None:
    """+79001234567 for "+7 900 123-45-67", "89001234567", "8 (900) 123 45 67" (read in the
    account's `region` when written without a country code); None when it is not a possible
    phone number."""
    if not raw or not raw.strip():
        return None
    try:
        parsed = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email_key(raw: str | None) -> str | None:
    """The email stripped and in lower case; None when it is not one."""
    value = (raw or "").strip().lower()
    return value if "@" in value else None


def readable(phone: str) -> str:
    """+79001234567 → '+7 900 123-45-67' for people to read; anything else as it is."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
