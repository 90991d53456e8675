"""The operator's own legal and bank details: a TOML file (OPERATOR_DETAILS), never in code.

The built-in file (`operator.toml` beside the tariff catalog) holds sample details for the demo
and tests; a real operator points OPERATOR_DETAILS at its own copy of
`deploy/operator.example.toml`.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from core.errors import InvalidInput
from core.invoices.inn import clean_kpp, digits, inn_is_valid

BUILTIN_OPERATOR = Path(__file__).parents[1] / "tariff" / "operator.toml"


class OperatorError(ValueError):
    """The operator file is missing or malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Operator:
    prefix: str  # invoice numbers: PREFIX-YYYY-NNNNNN
    name: str
    inn: str
    kpp: str | None
    address: str
    bank: str
    bik: str
    account: str  # the settlement account payments come to (ПолучательСчет)
    corr_account: str
    vat_rate: Decimal | None  # None: no VAT (`vat_note` says why)
    vat_note: str
    due_days: int
    service_ru: str
    service_en: str
    name_en: str
    address_en: str
    signer: str | None

    def details(self) -> dict[str, Any]:
        """The details as stored on an invoice (it keeps them as they were when issued)."""
        return {
            "name": self.name,
            "name_en": self.name_en,
            "inn": self.inn,
            "kpp": self.kpp,
            "address": self.address,
            "address_en": self.address_en,
            "bank": self.bank,
            "bik": self.bik,
            "account": self.account,
            "corr_account": self.corr_account,
            "vat_rate": str(self.vat_rate) if self.vat_rate is not None else None,
            "vat_note": self.vat_note,
            "signer": self.signer,
        }


def _text(data: dict[str, Any], key: str, limit: int = 300, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(f"{key}: expected text of 1–{limit} characters")
    return " ".join(value.split())


def parse_operator(data: dict[str, Any]) -> Operator:
    try:
        prefix = _text(data, "invoice_prefix", 8).upper()
        if not prefix.isascii() or not prefix.isalnum():
            raise ValueError("invoice_prefix: latin letters and digits")
        inn = _text(data, "inn", 12)
        if not inn_is_valid(inn):
            raise ValueError(f"inn {inn}: not a valid INN (check digits)")
        kpp = data.get("kpp")
        if kpp is not None:
            try:
                kpp = clean_kpp(str(kpp))
            except InvalidInput:
                raise ValueError(f"kpp {kpp}: 9 characters") from None
        bik = _text(data, "bik", 9)
        account = _text(data, "account", 20)
        corr = _text(data, "corr_account", 20)
        if not digits(bik, 9):
            raise ValueError("bik: 9 digits")
        if not digits(account, 20) or not digits(corr, 20):
            raise ValueError("account and corr_account: 20 digits each")
        vat = data.get("vat_rate")
        vat_rate = None if vat in (None, "none", 0) else Decimal(str(vat))
        if vat_rate is not None and not 0 < vat_rate < 100:
            raise ValueError('vat_rate: a percentage, or "none"')
        vat_note = _text(data, "vat_note", 200, required=vat_rate is None)
        due_days = int(data.get("due_days", 5))
        if not 0 <= due_days <= 90:
            raise ValueError("due_days: 0–90")
        name = _text(data, "name")
        address = _text(data, "address")
        return Operator(
            prefix=prefix,
            name=name,
            inn=inn,
            kpp=kpp,
            address=address,
            bank=_text(data, "bank"),
            bik=bik,
            account=account,
            corr_account=corr,
            vat_rate=vat_rate,
            vat_note=vat_note,
            due_days=due_days,
            service_ru=_text(data, "service_ru", 100, required=False) or "ShopDesk",
            service_en=_text(data, "service_en", 100, required=False) or "ShopDesk",
            name_en=_text(data, "name_en", required=False) or name,
            address_en=_text(data, "address_en", required=False) or address,
            signer=_text(data, "signer", 100, required=False) or None,
        )
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise OperatorError(f"bad operator details: {exc!s}") from None


@functools.cache
def load_operator(path: Path | None = None) -> Operator:
    """The details at `path` (OPERATOR_DETAILS), or the built-in sample; read once per process."""
    source = path or BUILTIN_OPERATOR
    try:
        with source.open("rb") as file:
            return parse_operator(tomllib.load(file))
    except OSError as exc:
        raise OperatorError(f"cannot read operator details {source}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise OperatorError(f"bad operator details {source}: {exc}") from None
