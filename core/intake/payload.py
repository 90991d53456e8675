"""The HTTP intake API's order document → NewOrder, naming the first bad field."""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInput
from core.orders import fields
from core.orders.models import OrderStatus
from core.orders.service import NewOrder
from core.orders.sync import ExternalOrder
from core.orders.views import OrderItem

MAX_ITEMS = 200


def _object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        raise fields.required(field)
    if not isinstance(value, dict):
        raise fields.wrong_type(field, "object")
    return value


def _items(value: Any) -> tuple[OrderItem, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise fields.wrong_type("items", "array")
    if len(value) > MAX_ITEMS:
        raise InvalidInput("field_too_many", field="items", limit=MAX_ITEMS)
    items = []
    for i, raw in enumerate(value):
        item = _object(raw, f"items[{i}]")
        items.append(
            OrderItem(
                title=fields.text(item.get("title"), f"items[{i}].title", limit=200),
                qty=fields.quantity(item.get("qty"), f"items[{i}].qty"),
                price=fields.amount(item.get("price"), f"items[{i}].price"),
            )
        )
    return tuple(items)


def parse_order(data: Any) -> NewOrder:
    body = _object(data, "body")
    external_id = fields.text(body.get("external_id"), "external_id", limit=128)
    number = fields.number(body.get("number"), "number")
    customer = _object(body.get("customer"), "customer")
    return NewOrder(
        external_id=external_id,
        number=number,
        customer_name=fields.text(customer.get("name"), "customer.name", limit=200),
        customer_phone=fields.phone(customer.get("phone"), "customer.phone"),
        customer_email=fields.email(customer.get("email"), "customer.email"),
        customer_address=fields.text(
            customer.get("address"), "customer.address", limit=500, optional=True
        ),
        items=_items(body.get("items")),
        total=fields.amount(body.get("total"), "total"),
        currency=fields.currency(body.get("currency"), "currency"),
        placed_at=fields.moment(body.get("created_at"), "created_at"),
        comment=fields.text(body.get("comment"), "comment", limit=2000, optional=True),
    )


def parse_update(data: Any, external_id: str) -> ExternalOrder:
    """PUT /api/v1/orders/{external_id}: the order document as for POST (its external_id, if
    given, must be the one in the path), plus `status` ("cancelled" cancels the order; other
    statuses are ShopDesk's to set) and `updated_at`, the store's version: an older one never
    overwrites a newer one."""
    body = _object(data, "body")
    path_id = fields.text(external_id, "external_id", limit=128)
    given = body.get("external_id")
    if given is not None and fields.text(given, "external_id", limit=128) != path_id:
        raise InvalidInput("field_external_id_mismatch", field="external_id")
    order = parse_order({**body, "external_id": path_id})
    status = body.get("status")
    if status is not None and status not in (OrderStatus.CANCELLED.value, "open"):
        raise InvalidInput("field_status", field="status")
    version = fields.moment(body.get("updated_at"), "updated_at")
    return ExternalOrder(order, status == OrderStatus.CANCELLED.value, version)
