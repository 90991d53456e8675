"""InSales: orders/create, orders/update, authenticated by the secret token in the URL (InSales
documents no signature). A declined order cancels ours."""

from __future__ import annotations

from typing import Any

from core.connectors.phones import normalize_phone
from core.connectors.platforms import base
from core.connectors.platforms.base import Context, Inbound, Received
from core.orders import fields
from core.orders.sync import ExternalOrder

NAME = "insales"
AUTH = "token"
SECRET_FROM_SHOP = False
EVENTS = ("orders/create", "orders/update")
CANCELLED = ("declined",)


def is_ping(inbound: Inbound) -> bool:
    return False


def receive(inbound: Inbound) -> Received:
    payload = base.json_body(inbound)
    if isinstance(payload.get("order"), dict):  # some set-ups wrap the order
        payload = payload["order"]
    return Received("order", payload, base.body_hash(inbound.body))


def to_order(data: dict[str, Any], ctx: Context) -> ExternalOrder:
    client = base.obj(data.get("client"), "client")
    shipping = base.obj(data.get("shipping_address"), "shipping_address")
    name = (
        base.name_of(client.get("name"), client.get("surname"))
        or shipping.get("name")
        or client.get("email")
        or "—"
    )
    order = base.new_order(
        number=fields.number(data.get("number") or data.get("id"), "number"),
        external_id=base.external_id(ctx, data.get("id") or data.get("number")),
        customer_name=fields.text(name, "client.name", limit=200),
        customer_phone=normalize_phone(
            client.get("phone") or shipping.get("phone"), ctx.region, "client.phone"
        ),
        customer_email=fields.email(client.get("email"), "client.email"),
        customer_address=fields.text(
            shipping.get("full_delivery_address") or shipping.get("address"),
            "shipping_address.address",
            limit=500,
            optional=True,
        ),
        items=base.items_of(
            data.get("order_lines"),
            "order_lines",
            title="title",
            qty="quantity",
            price="sale_price",
        ),
        total=base.money(data.get("total_price"), "total_price"),
        currency=fields.currency(data.get("currency_code"), "currency_code"),
        placed_at=base.moment(data.get("created_at"), "created_at"),
        comment=fields.text(data.get("comment"), "comment", limit=2000, optional=True),
    )
    cancelled = data.get("fulfillment_status") in CANCELLED
    return ExternalOrder(order, cancelled, base.moment(data.get("updated_at"), "updated_at"))
