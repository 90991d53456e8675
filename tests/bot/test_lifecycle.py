from __future__ import annotations

import asyncio

from bot.lifecycle import InFlight


async def test_wait_idle_waits_for_updates_in_flight_and_is_bounded():
    tracker = InFlight()
    release = asyncio.Event()

    async def slow(event, data):
        await release.wait()
        return "done"

    task = asyncio.create_task(tracker(slow, object(), {}))
    await asyncio.sleep(0)
    assert tracker.count == 1
    assert await tracker.wait_idle(0.05) is False  # bounded: gives up
    release.set()
    assert await tracker.wait_idle(1) is True
    assert await task == "done" and tracker.count == 0
