"""Shopify: orders/create, orders/updated, orders/cancelled; X-Shopify-Hmac-SHA256 is the base64
HMAC-SHA256 of the raw body keyed with the app's webhook signing key."""

from __future__ import annotations

from typing import Any

from core.connectors.phones import normalize_phone
from core.connectors.platforms import base
from core.connectors.platforms.base import Context, Inbound, Received
from core.orders import fields
from core.orders.sync import ExternalOrder

NAME = "shopify"
AUTH = "hmac"
SECRET_FROM_SHOP = True  # the admin pastes the signing key Shopify shows
EVENTS = ("orders/create", "orders/updated", "orders/cancelled")


def verify(inbound: Inbound, key: str) -> bool:
    return base.same(inbound.header("X-Shopify-Hmac-SHA256"), base.hmac_b64(key, inbound.body))


def is_ping(inbound: Inbound) -> bool:
    return False


def receive(inbound: Inbound) -> Received:
    payload = base.json_body(inbound)
    topic = inbound.header("X-Shopify-Topic") or "orders/create"
    key = inbound.header("X-Shopify-Webhook-Id") or base.body_hash(inbound.body)
    return Received(topic[:64], payload, key[:128], inbound.header("X-Shopify-Shop-Domain"))


def to_order(data: dict[str, Any], ctx: Context) -> ExternalOrder:
    customer = base.obj(data.get("customer"), "customer")
    shipping = base.obj(data.get("shipping_address"), "shipping_address")
    billing = base.obj(data.get("billing_address"), "billing_address")
    name = (
        base.name_of(customer.get("first_name"), customer.get("last_name"))
        or shipping.get("name")
        or billing.get("name")
        or data.get("email")
        or "—"
    )
    phone = customer.get("phone") or data.get("phone") or shipping.get("phone")
    number = data.get("name") or data.get("order_number") or data.get("id")
    order = base.new_order(
        number=fields.number(number, "name"),
        external_id=base.external_id(ctx, data.get("id")),
        customer_name=fields.text(name, "customer", limit=200),
        customer_phone=normalize_phone(phone, ctx.region, "customer.phone"),
        customer_email=fields.email(customer.get("email") or data.get("email"), "customer.email"),
        customer_address=base.address_of(
            shipping.get("address1"),
            shipping.get("address2"),
            shipping.get("city"),
            shipping.get("zip"),
            shipping.get("country"),
        ),
        items=base.items_of(
            data.get("line_items"), "line_items", title="title", qty="quantity", price="price"
        ),
        total=base.money(data.get("total_price"), "total_price"),
        currency=fields.currency(data.get("currency"), "currency"),
        placed_at=base.moment(data.get("created_at"), "created_at"),
        comment=fields.text(data.get("note"), "note", limit=2000, optional=True),
    )
    cancelled = ctx.event == "orders/cancelled" or bool(data.get("cancelled_at"))
    return ExternalOrder(order, cancelled, base.moment(data.get("updated_at"), "updated_at"))
