"""Tilda: a form or cart submission, form-encoded or JSON, authenticated by the secret token in
the URL; connecting posts `test=test`, which gets 200. Field names are the shop's own (Name,
Phone, Email, in English or Russian); cart orders carry payment[orderid], payment[amount],
payment[products]."""

from __future__ import annotations

import json
from typing import Any

from core.connectors.phones import normalize_phone
from core.connectors.platforms import base
from core.connectors.platforms.base import Context, Inbound, Received
from core.orders import fields
from core.orders.sync import ExternalOrder

NAME = "tilda"
AUTH = "token"
SECRET_FROM_SHOP = False
EVENTS = ("submission",)
NAMES = ("name", "имя", "фио", "your name")
PHONES = ("phone", "телефон", "tel")
EMAILS = ("email", "e-mail", "почта")
COMMENTS = ("comment", "comments", "комментарий", "message", "сообщение")


def is_ping(inbound: Inbound) -> bool:
    return inbound.body.strip() in (b"test=test", b'{"test":"test"}', b'{"test": "test"}')


def receive(inbound: Inbound) -> Received:
    if inbound.content_type == "application/json":
        payload = base.json_body(inbound)
    elif inbound.content_type in ("application/x-www-form-urlencoded", ""):
        payload = base.form_body(inbound)
    else:
        raise base.BadDelivery(
            "hook_content_type", status=415, expected="application/x-www-form-urlencoded"
        )
    return Received("submission", payload, base.body_hash(inbound.body))


def _pick(data: dict[str, Any], names: tuple[str, ...]) -> Any:
    for key, value in data.items():
        if isinstance(key, str) and key.strip().lower() in names:
            return value
    return None


def to_order(data: dict[str, Any], ctx: Context) -> ExternalOrder:
    payment = data.get("payment")
    if isinstance(payment, str):  # some forms send the cart as a JSON string
        try:
            payment = json.loads(payment)
        except ValueError:
            payment = None
    payment = base.obj(payment if isinstance(payment, dict) else None, "payment")
    ref = payment.get("orderid") or data.get("tranid")
    products = payment.get("products")
    if isinstance(products, list) and products and all(isinstance(p, dict) for p in products):
        items = base.items_of(
            products, "payment.products", title="name", qty="quantity", price="price"
        )
    else:
        items = ()
    amount = payment.get("amount")
    order = base.new_order(
        number=fields.number(ref, "payment.orderid"),
        external_id=base.external_id(ctx, ref, "payment.orderid"),
        customer_name=fields.text(_pick(data, NAMES) or "—", "Name", limit=200),
        customer_phone=normalize_phone(_pick(data, PHONES), ctx.region, "Phone"),
        customer_email=fields.email(_pick(data, EMAILS), "Email"),
        customer_address=fields.text(
            payment.get("delivery_address") or _pick(data, ("address", "адрес")),
            "address",
            limit=500,
            optional=True,
        ),
        items=items,
        total=base.money(amount if amount not in (None, "") else "0", "payment.amount"),
        currency=None,
        placed_at=None,
        comment=fields.text(_pick(data, COMMENTS), "comment", limit=2000, optional=True),
    )
    return ExternalOrder(order)
