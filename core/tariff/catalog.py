"""The tariff catalog: a data file (tariffs.toml), never prices in code."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from core.errors import InvalidInput

BUILTIN_CATALOG = Path(__file__).with_name("tariffs.toml")


class CatalogError(ValueError):
    """The catalog file is missing or malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Tariff:
    code: str
    name_ru: str
    name_en: str
    monthly_price: int  # kopecks
    free_users: int

    def name(self, locale: str) -> str:
        return self.name_ru if locale == "ru" else self.name_en


@dataclass(frozen=True, slots=True)
class Catalog:
    tariffs: tuple[Tariff, ...]
    extra_user_price: int  # kopecks per member beyond the free ones, per month
    discounts: dict[int, Decimal]  # prepaid months → percent off
    reminder_days: tuple[int, ...]  # days before the paid-through date, descending

    @property
    def periods(self) -> tuple[int, ...]:
        """The months an invoice can cover: one, or a discounted prepay period."""
        return tuple(sorted({1, *self.discounts}))

    def discount(self, months: int) -> Decimal:
        return self.discounts.get(months, Decimal(0))

    def tariff(self, code: str) -> Tariff:
        wanted = code.strip().lower()
        for tariff in self.tariffs:
            if tariff.code == wanted:
                return tariff
        raise InvalidInput("tariff_unknown", tariff=code[:40], known=self.codes())

    def codes(self) -> str:
        return ", ".join(t.code for t in self.tariffs)

    def check_period(self, months: int) -> int:
        if months not in self.periods:
            raise InvalidInput("invoice_months", allowed=", ".join(map(str, self.periods)))
        return months


def parse_catalog(data: dict[str, Any]) -> Catalog:
    try:
        tariffs = tuple(_tariff(item) for item in data["tariffs"])
        extra = _kopecks(data["extra_user_price"], "extra_user_price")
        discounts = {
            _months(k): _percent(v, k) for k, v in data.get("prepay_discounts", {}).items()
        }
        days = tuple(sorted({int(d) for d in data["reminders"]["days_before"]}, reverse=True))
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise CatalogError(f"bad tariff catalog: {exc!s}") from None
    if not tariffs:
        raise CatalogError("bad tariff catalog: no tariffs")
    if len({t.code for t in tariffs}) != len(tariffs):
        raise CatalogError("bad tariff catalog: duplicate tariff code")
    if any(d <= 0 for d in days):
        raise CatalogError("bad tariff catalog: reminder days must be positive")
    return Catalog(tariffs, extra, discounts, days)


def _tariff(item: dict[str, Any]) -> Tariff:
    code = str(item["code"]).strip().lower()
    if not code or len(code) > 40:
        raise ValueError(f"tariff code {code!r}")
    price = _kopecks(item["monthly_price"], code)
    if price <= 0:
        raise ValueError(f"{code}: the monthly price must be positive")
    free = int(item["free_users"])
    if free < 1:
        raise ValueError(f"{code}: at least one free user (the owner)")
    return Tariff(code, str(item["name_ru"]), str(item["name_en"]), price, free)


def _kopecks(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{what}: expected whole kopecks, got {value!r}")
    return value


def _months(key: str) -> int:
    months = int(key)
    if not 2 <= months <= 36:
        raise ValueError(f"prepay period {key!r} months")
    return months


def _percent(value: Any, months: str) -> Decimal:
    percent = Decimal(str(value))
    if not 0 <= percent < 100:
        raise ValueError(f"discount for {months} months: {value!r}")
    return percent


@functools.cache
def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog at `path` (TARIFF_CATALOG), or the built-in one; read once per process."""
    source = path or BUILTIN_CATALOG
    try:
        with source.open("rb") as file:
            return parse_catalog(tomllib.load(file))
    except OSError as exc:
        raise CatalogError(f"cannot read tariff catalog {source}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"bad tariff catalog {source}: {exc}") from None
