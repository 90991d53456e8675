"""Ecwid: order.created, order.updated (order.deleted is ignored). X-Ecwid-Webhook-Signature is
the base64 HMAC-SHA256 of "{eventCreated}.{eventId}" keyed with the app's client secret: the
body itself is not signed and is thin, so the order is fetched from Ecwid's REST API with the
store's token when the delivery is applied (retried from the stored delivery if that fails)."""

from __future__ import annotations

from typing import Any

from core.connectors.phones import normalize_phone
from core.connectors.platforms import base
from core.connectors.platforms.base import BadDelivery, Context, Inbound, Received
from core.orders import fields
from core.orders.sync import ExternalOrder

NAME = "ecwid"
AUTH = "hmac"
SECRET_FROM_SHOP = True  # the client secret, and the store's token and id
EVENTS = ("order.created", "order.updated")
FETCHES = True
CANCELLED = ("CANCELLED", "REFUNDED", "VOIDED")


def _signed_part(inbound: Inbound) -> bytes | None:
    try:
        data = base.json_body(inbound)
    except Exception:
        return None
    created, event_id = data.get("eventCreated"), data.get("eventId")
    if created is None or event_id is None:
        return None
    return f"{created}.{event_id}".encode()


def verify(inbound: Inbound, key: str) -> bool:
    signed = _signed_part(inbound)
    if signed is None:
        return False
    return base.same(inbound.header("X-Ecwid-Webhook-Signature"), base.hmac_b64(key, signed))


def is_ping(inbound: Inbound) -> bool:
    return False


def receive(inbound: Inbound) -> Received:
    payload = base.json_body(inbound)
    event = payload.get("eventType")
    event_id = payload.get("eventId")
    if not isinstance(event, str) or not isinstance(event_id, str | int):
        raise BadDelivery("hook_payload", field="eventType")
    fields.text(payload.get("entityId"), "entityId", limit=64)
    store = payload.get("storeId")
    return Received(event[:64], payload, str(event_id)[:128], str(store)[:64] if store else None)


def order_id(payload: dict[str, Any]) -> str:
    return fields.text(payload.get("entityId"), "entityId", limit=64)


def to_order(data: dict[str, Any], ctx: Context) -> ExternalOrder:
    """`data` is the order fetched from GET /{storeId}/orders/{orderId}."""
    billing = base.obj(data.get("billingPerson"), "billingPerson")
    shipping = base.obj(data.get("shippingPerson"), "shippingPerson")
    name = billing.get("name") or shipping.get("name") or data.get("email") or "—"
    number = data.get("orderNumber") or data.get("vendorOrderNumber") or data.get("id")
    order = base.new_order(
        number=fields.number(number, "orderNumber"),
        external_id=base.external_id(ctx, data.get("id") or data.get("orderNumber")),
        customer_name=fields.text(name, "billingPerson.name", limit=200),
        customer_phone=normalize_phone(
            billing.get("phone") or shipping.get("phone"), ctx.region, "billingPerson.phone"
        ),
        customer_email=fields.email(data.get("email"), "email"),
        customer_address=base.address_of(
            shipping.get("street"),
            shipping.get("city"),
            shipping.get("postalCode"),
            shipping.get("countryName"),
        ),
        items=base.items_of(
            data.get("items"), "items", title="name", qty="quantity", price="price"
        ),
        total=base.money(data.get("total"), "total"),
        currency=fields.currency(data.get("currency"), "currency"),
        placed_at=base.moment(data.get("createTimestamp") or data.get("createDate"), "createDate"),
        comment=fields.text(data.get("orderComments"), "orderComments", limit=2000, optional=True),
    )
    version = base.moment(data.get("updateTimestamp") or data.get("updateDate"), "updateDate")
    cancelled = data.get("paymentStatus") in CANCELLED or data.get("fulfillmentStatus") in (
        "WILL_NOT_DELIVER",
    )
    return ExternalOrder(order, cancelled, version)
