"""Fetching an order from Ecwid's REST API (GET {base}/{storeId}/orders/{orderId}, the store's
token as a bearer), through a configurable base URL so tests use a stand-in on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

ATTEMPTS = 2  # quick retries here; after that the stored delivery is retried later


class FetchFailed(Exception):
    """Ecwid did not give the order (network, timeout, 5xx, 429): retried later."""


class FetchRefused(Exception):
    """Ecwid refused for good (401/403/404): the delivery fails with this reason."""


async def fetch_order(
    base: str, store_id: str, token: str, order_id: str, *, timeout: float
) -> dict[str, Any]:
    url = f"{base}/{store_id}/orders/{order_id}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    last = "no attempt"
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(0.2 * attempt)
        try:
            async with (
                aiohttp.ClientSession(timeout=client_timeout) as session,
                session.get(url, headers=headers) as response,
            ):
                if response.status in (401, 403, 404):
                    raise FetchRefused(f"ecwid answered {response.status}")
                if response.status != 200:
                    last = f"ecwid answered {response.status}"
                    continue
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            last = f"ecwid fetch failed: {type(exc).__name__}"
            continue
        if not isinstance(data, dict):
            raise FetchRefused("ecwid sent no order object")
        return data
    raise FetchFailed(last)
