"""Delivering the fixtures in tests/data/connectors/ as each platform does: its headers, its
signature (or the token in the URL), its content type."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import func, select

from core.connectors.models import ConnectorDelivery
from core.orders.models import Order

DATA = Path(__file__).parent.parent / "data" / "connectors"
SHOP_DOMAIN = "demo-shop.myshopify.com"
WOO_SITE = "https://woo.example.com"
ECWID_SECRET = "ecwid-client-secret-0123456789"
SHOPIFY_SECRET = "shpss_0123456789abcdef0123456789abcdef"
ECWID_TOKEN = "secret_ecwidstoretoken0123"
ECWID_STORE = "1003"


def fixture(platform: str, name: str) -> bytes:
    for suffix in (".json", ".txt"):
        path = DATA / platform / f"{name}{suffix}"
        if path.exists():
            return path.read_bytes().strip()
    raise FileNotFoundError(f"{platform}/{name}")


def b64hmac(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


@dataclass
class Hook:
    """A connector as the shop sees it: where to post, with what secret."""

    platform: str
    url: str  # path only (/hooks/…)
    secret: str | None

    def request(
        self,
        body: bytes,
        *,
        event: str | None = None,
        delivery: str | None = None,
        sign_with: str | None = None,
        content_type: str | None = None,
    ) -> tuple[str, dict[str, str]]:
        """(path, headers) for one delivery of `body`."""
        key = sign_with if sign_with is not None else self.secret
        headers: dict[str, str] = {}
        if self.platform == "shopify":
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": event or "orders/create",
                "X-Shopify-Hmac-SHA256": b64hmac(key, body),
                "X-Shopify-Shop-Domain": SHOP_DOMAIN,
            }
            if delivery:
                headers["X-Shopify-Webhook-Id"] = delivery
        elif self.platform == "woocommerce":
            headers = {
                "Content-Type": "application/json",
                "X-WC-Webhook-Topic": event or "order.created",
                "X-WC-Webhook-Signature": b64hmac(key, body),
                "X-WC-Webhook-Source": WOO_SITE + "/",
            }
            if delivery:
                headers["X-WC-Webhook-Delivery-ID"] = delivery
        elif self.platform == "ecwid":
            data = json.loads(body)
            signed = f"{data['eventCreated']}.{data['eventId']}".encode()
            headers = {
                "Content-Type": "application/json",
                "X-Ecwid-Webhook-Signature": b64hmac(key, signed),
            }
        elif self.platform == "tilda":
            is_json = body.lstrip().startswith(b"{")
            headers = {
                "Content-Type": "application/json"
                if is_json
                else "application/x-www-form-urlencoded"
            }
        else:
            headers = {"Content-Type": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        path = self.url
        if sign_with is not None and self.platform in ("tilda", "insales"):
            path = self.url.rsplit("/", 1)[0] + "/" + sign_with
        return path, headers


def path_of(url: str) -> str:
    return urlsplit(url).path


async def counts(uows) -> tuple[int, int]:
    """(orders, stored deliveries)."""
    async with uows() as uow:
        orders = await uow.session.scalar(select(func.count()).select_from(Order))
        stored = await uow.session.scalar(select(func.count()).select_from(ConnectorDelivery))
    return orders, stored


async def orders(uows) -> list[Order]:
    async with uows() as uow:
        return list(await uow.session.scalars(select(Order).order_by(Order.id)))
