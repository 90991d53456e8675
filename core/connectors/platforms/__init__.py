"""The five platforms, by name. Each module has NAME, AUTH ("hmac" or "token"),
SECRET_FROM_SHOP, EVENTS, is_ping, receive, to_order, and for "hmac" verify."""

from __future__ import annotations

from types import ModuleType

from core.connectors.platforms import ecwid, insales, shopify, tilda, woocommerce

PLATFORMS: dict[str, ModuleType] = {
    m.NAME: m for m in (shopify, woocommerce, ecwid, tilda, insales)
}


def platform(name: str) -> ModuleType | None:
    return PLATFORMS.get(name)
