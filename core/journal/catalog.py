"""The services catalog: a data file (catalog.toml), validated once when first read."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_CATALOG = Path(__file__).with_name("catalog.toml")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
LOCALES = ("ru", "en")


class CatalogError(ValueError):
    """The catalog file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class CatalogItem:
    code: str
    names: dict[str, str]
    channel: str
    price: int  # kopecks per period
    period_months: int
    setup_needed: bool
    resources: dict[str, int] = field(default_factory=dict)

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["en"]


@dataclass(frozen=True)
class Pool:
    kind: str
    prefix: str
    first: int
    count: int
    width: int

    def values(self) -> list[str]:
        return [
            f"{self.prefix}{n:0{self.width}d}" for n in range(self.first, self.first + self.count)
        ]


@dataclass(frozen=True)
class Catalog:
    items: tuple[CatalogItem, ...]
    pools: dict[str, Pool]

    def get(self, code: str) -> CatalogItem | None:
        return next((item for item in self.items if item.code == code), None)


def _item(raw: dict[str, Any], where: str) -> CatalogItem:
    code = raw.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        raise CatalogError(f"{where}: code must be 1–24 of a-z, 0-9, _ (got {code!r})")
    names = {loc: raw.get(f"name_{loc}") for loc in LOCALES}
    if not all(isinstance(n, str) and n.strip() for n in names.values()):
        raise CatalogError(f"{where} ({code}): name_ru and name_en are required")
    price, months = raw.get("price"), raw.get("period_months", 1)
    if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
        raise CatalogError(f"{where} ({code}): price must be a positive number of kopecks")
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 36:
        raise CatalogError(f"{where} ({code}): period_months must be 1–36")
    resources = raw.get("resources", {})
    if not isinstance(resources, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 100 for n in resources.values()
    ):
        raise CatalogError(f"{where} ({code}): resources must map a pool to a count 1–100")
    return CatalogItem(
        code=code,
        names={k: v.strip() for k, v in names.items()},
        channel=str(raw.get("channel") or "other"),
        price=price,
        period_months=months,
        setup_needed=bool(raw.get("setup_needed", False)),
        resources=dict(resources),
    )


def _pool(raw: dict[str, Any], where: str) -> Pool:
    try:
        pool = Pool(
            kind=str(raw["kind"]),
            prefix=str(raw.get("prefix", "")),
            first=int(raw.get("first", 1)),
            count=int(raw["count"]),
            width=int(raw.get("width", 4)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogError(f"{where}: a pool needs kind and count ({exc})") from None
    if pool.count <= 0 or len(pool.values()[-1]) > 64:
        raise CatalogError(f"{where}: pool {pool.kind} must hold 1+ values of ≤ 64 characters")
    return pool


def load_catalog(path: Path = DEFAULT_CATALOG) -> Catalog:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path}: {exc}") from None
    items = tuple(
        _item(raw, f"{path.name} service #{i}") for i, raw in enumerate(data.get("service", []), 1)
    )
    pools = {
        pool.kind: pool
        for pool in (
            _pool(raw, f"{path.name} pool #{i}") for i, raw in enumerate(data.get("pool", []), 1)
        )
    }
    if not items:
        raise CatalogError(f"{path}: no [[service]] entries")
    codes = [item.code for item in items]
    if len(set(codes)) != len(codes):
        raise CatalogError(f"{path}: duplicate service codes")
    for item in items:
        missing = set(item.resources) - set(pools)
        if missing:
            raise CatalogError(f"{path} ({item.code}): no [[pool]] for {sorted(missing)}")
    return Catalog(items, pools)


@cache
def default_catalog() -> Catalog:
    return load_catalog()
