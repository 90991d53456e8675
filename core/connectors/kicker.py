"""Runs a drain in the background when woken: at most one run at a time, and a wake during a
run makes it run once more (nothing woken for is missed). The scheduled job drains too, so a
process that dies mid-run loses nothing: the rows are in the database."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Kicker:
    def __init__(self, name: str, run: Callable[[], Awaitable[int]]) -> None:
        self.name = name
        self._run = run
        self._task: asyncio.Task | None = None
        self._again = False

    def wake(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        while True:
            self._again = False
            try:
                await self._run()
            except Exception:
                log.exception("%s failed; the scheduled job retries", self.name)
            if not self._again:
                return

    async def idle(self) -> None:
        """Waits for the current run (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])


def worker_name() -> str:
    """This process, as a lease owner."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"
