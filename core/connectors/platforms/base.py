"""What every platform module provides, and the readers they share.

A platform module turns one verified HTTP delivery into a `Received` (what happened, which
delivery it is) and a stored payload into an `ExternalOrder` for core.orders.sync. Every value
goes through core.orders.fields, so a shop's bad value gets the same clear error as the API's."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from core.errors import InvalidInput
from core.orders import fields
from core.orders.service import NewOrder
from core.orders.sync import ExternalOrder
from core.orders.views import OrderItem

MAX_ITEMS = 200
PING = "ping"


class BadDelivery(InvalidInput):
    """The delivery cannot be read at all (not JSON, wrong content type): HTTP 400/415."""

    def __init__(self, code: str, status: int = 400, **params: Any) -> None:
        super().__init__(code, **params)
        self.status = status


@dataclass(frozen=True, slots=True)
class Inbound:
    """One HTTP delivery as the adapter received it (header names in lower case)."""

    headers: Mapping[str, str]
    body: bytes
    content_type: str

    def header(self, name: str) -> str | None:
        value = self.headers.get(name.lower())
        return value.strip() if value else None


@dataclass(frozen=True, slots=True)
class Received:
    event: str  # the platform's topic ("orders/create"), or PING for a test delivery
    payload: dict[str, Any]
    delivery_key: str  # the platform's delivery id, else the body's hash
    store_ref: str | None = None

    @property
    def ping(self) -> bool:
        return self.event == PING


@dataclass(frozen=True, slots=True)
class Context:
    """What a mapper needs besides the payload."""

    platform: str
    connector_id: int
    region: str  # phones without a country code
    store_ref: str | None = None
    event: str = ""


# ---- verification ----------------------------------------------------------------------------


def hmac_b64(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def same(given: str | None, expected: str) -> bool:
    """Constant-time comparison; a missing value never matches."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def body_hash(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


# ---- reading bodies --------------------------------------------------------------------------


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadDelivery("hook_encoding") from None


def json_body(inbound: Inbound) -> dict[str, Any]:
    if inbound.content_type != "application/json":
        raise BadDelivery("hook_content_type", status=415, expected="application/json")
    try:
        data = json.loads(_text(inbound.body))
    except (ValueError, RecursionError):
        raise BadDelivery("hook_json") from None
    if not isinstance(data, dict):
        raise BadDelivery("hook_json")
    check_storable(data)
    return data


def form_body(inbound: Inbound) -> dict[str, Any]:
    """application/x-www-form-urlencoded, with PHP-style keys (payment[products][0][name])
    made into nested objects and lists."""
    pairs = parse_qsl(_text(inbound.body), keep_blank_values=True)
    result: dict[str, Any] = {}
    for key, value in pairs:
        path = key.replace("]", "").split("[")
        node: Any = result
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if not isinstance(node, dict):
                break
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    data = _lists(result)
    check_storable(data)
    return data


def _lists(node: Any) -> Any:
    """{"0": a, "1": b} → [a, b]."""
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def check_storable(value: Any, path: str = "body") -> None:
    """Refuses text PostgreSQL cannot keep (NUL, lone surrogates) anywhere in the payload."""
    if isinstance(value, str):
        if not fields.storable(value):
            raise InvalidInput("field_characters", field=path)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, path)
            check_storable(item, f"{path}.{key}"[:100])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_storable(item, f"{path}[{i}]"[:100])


# ---- reading values --------------------------------------------------------------------------


def obj(value: Any, field: str, *, optional: bool = True) -> dict[str, Any]:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise fields.wrong_type(field, "object")
    return value


def money(value: Any, field: str) -> int:
    """A shop's amount in whole currency units: "1500.00", 1500, 1500.5 → kopecks."""
    if isinstance(value, bool):
        raise InvalidInput("field_amount", field=field)
    if isinstance(value, float):
        try:
            value = format(Decimal(repr(value)), "f")
        except InvalidOperation:
            raise InvalidInput("field_amount", field=field) from None
    elif isinstance(value, int):
        value = str(value)
    return fields.amount(value, field)


def moment(value: Any, field: str) -> datetime | None:
    """ISO 8601 (a time without an offset is UTC: WooCommerce's *_gmt), "2024-01-15 10:00:00
    +0000" (Ecwid) or seconds since the epoch."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidInput("field_datetime", field=field) from None
    if not isinstance(value, str):
        raise fields.wrong_type(field, "string")
    text = value.strip().replace("Z", "+00:00")
    for candidate in (text, text.replace(" ", "T", 1)):
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        raise InvalidInput("field_datetime", field=field) from None


def name_of(*parts: Any) -> str | None:
    words = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
    return " ".join(words) or None


def address_of(*parts: Any) -> str | None:
    words = [str(p).strip() for p in parts if isinstance(p, str | int) and str(p).strip()]
    return ", ".join(words)[:500] or None


def items_of(value: Any, field: str, *, title: str, qty: str, price: str) -> tuple[OrderItem, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise fields.wrong_type(field, "array")
    if len(value) > MAX_ITEMS:
        raise InvalidInput("field_too_many", field=field, limit=MAX_ITEMS)
    items = []
    for i, raw in enumerate(value):
        item = obj(raw, f"{field}[{i}]", optional=False)
        items.append(
            OrderItem(
                title=fields.text(item.get(title), f"{field}[{i}].{title}", limit=200),
                qty=fields.quantity(item.get(qty), f"{field}[{i}].{qty}"),
                price=money(item.get(price), f"{field}[{i}].{price}"),
            )
        )
    return tuple(items)


def external_id(ctx: Context, order_id: Any, field: str = "id") -> str:
    """platform:store:order, the store being the shop's domain / store id, else the connector."""
    own = fields.text(order_id, field, limit=64)
    store = (ctx.store_ref or f"c{ctx.connector_id}")[:48]
    return f"{ctx.platform}:{store}:{own}"


def new_order(**values: Any) -> NewOrder:
    return NewOrder(**values)


__all__ = ["Context", "ExternalOrder", "Inbound", "Received"]
