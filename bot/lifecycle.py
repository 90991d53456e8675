"""Updates in flight, so a stopping process finishes what it started (bounded wait)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiogram import BaseMiddleware


async def wait_or_time_out(event: asyncio.Event, seconds: float) -> None:
    """Waits for `event` at most `seconds`. Unlike `asyncio.wait_for` on Python 3.11, a cancel
    that lands as the time runs out is never swallowed (the sender's flush loop once hung so)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


class InFlight(BaseMiddleware):
    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler, event, data: dict[str, Any]) -> Any:
        self.count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if not self.count:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """True if everything in flight finished within `timeout` seconds."""
        await wait_or_time_out(self._idle, timeout)
        return self._idle.is_set()


def dump_tasks() -> None:
    """SIGUSR1: log what every asyncio task is waiting on (for a process that seems stuck)."""
    import io
    import logging

    out = io.StringIO()
    for task in asyncio.all_tasks():
        out.write(f"--- {task.get_name()}\n")
        task.print_stack(file=out)
    logging.getLogger(__name__).warning("asyncio tasks:\n%s", out.getvalue())
