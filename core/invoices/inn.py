"""Russian tax and bank identifiers: INN (with its check digits), KPP, BIK, account numbers."""

from __future__ import annotations

import re

from core.errors import InvalidInput

_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")


def _check(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    """10 digits (an organisation) or 12 (a sole trader, a person) with correct check digits."""
    if not inn.isascii() or not inn.isdigit():
        return False
    if len(inn) == 10:
        return _check(inn, _WEIGHTS_10) == int(inn[9])
    if len(inn) == 12:
        return _check(inn, _WEIGHTS_11) == int(inn[10]) and _check(inn, _WEIGHTS_12) == int(inn[11])
    return False


def clean_inn(text: str) -> str:
    """The INN as typed (spaces allowed) → its digits; refused with the reason otherwise."""
    inn = "".join(text.split())
    if not inn.isascii() or not inn.isdigit() or len(inn) not in (10, 12):
        raise InvalidInput("inn_format", value=text.strip()[:40])
    if not inn_is_valid(inn):
        raise InvalidInput("inn_checksum", value=inn)
    return inn


def clean_kpp(text: str) -> str:
    kpp = "".join(text.split()).upper()
    if not _KPP.fullmatch(kpp):
        raise InvalidInput("kpp_format", value=text.strip()[:40])
    return kpp


def is_company(inn: str) -> bool:
    """A 10-digit INN is an organisation's (it has a KPP); 12 digits: a sole trader's."""
    return len(inn) == 10


def digits(text: str, length: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) == length
