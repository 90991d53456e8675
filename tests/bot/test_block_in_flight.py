"""A block that lands while the member's own update is being handled."""

from __future__ import annotations

import asyncio

from core.orders import service as orders_service


async def test_the_update_in_flight_finishes_and_the_next_one_is_refused(client, shop, monkeypatch):
    entered, release = asyncio.Event(), asyncio.Event()
    real = orders_service.list_orders

    async def slow(*args, **kwargs):
        entered.set()
        await release.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(orders_service, "list_orders", slow)
    petya = client(3001, username="petya")
    in_flight = asyncio.create_task(petya.send("/orders"))
    await entered.wait()
    blocked = await client(1000).send("/block @petya")
    assert "@petya" in blocked.text
    release.set()
    finished = await in_flight
    assert finished.messages  # it was allowed when it started, and it completes
    refused = await petya.send("/orders")
    assert "заблокировал" in refused.text  # the very next update is refused, politely, once
    assert (await petya.send("/orders")).messages == []
