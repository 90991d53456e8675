"""The per-process side of the inbox: takes updates (the webhook), handles them under leases,
and drains what dead processes left behind.

At most `bound` updates are in flight in one process (being written or handled): past it
`accept` raises `Busy` and the webhook answers 503, so Telegram retries later instead of this
process piling up work it cannot do. The feed (the dispatcher, given by the composition root)
is a plain callable: core knows nothing of aiogram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from core.db.uow import UnitOfWorkFactory
from core.inbox import service
from core.inbox.service import Accepted

log = logging.getLogger(__name__)

Feed = Callable[[dict[str, Any]], Awaitable[object]]


class Busy(Exception):
    """This process has as many updates in flight as it may take."""


class InboxWorker:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        feed: Feed,
        *,
        bound: int,
        lease: timedelta,
        every: float | None = None,
    ) -> None:
        self.uows, self.feed, self.bound, self.lease = uows, feed, bound, lease
        # How often leases are extended and lapsed ones looked for: well within a lease.
        self.every = every if every is not None else min(max(lease.total_seconds() / 4, 0.2), 5)
        self.owner = f"inbox-{uuid.uuid4().hex[:12]}"
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._reserved = 0  # accepts between the bound check and their handling task
        self._unrecorded: dict[int, str | None] = {}  # handled, not yet marked so
        self._stopping = asyncio.Event()

    @property
    def in_flight(self) -> int:
        return len(self._tasks) + self._reserved

    @property
    def full(self) -> bool:
        return self.in_flight >= self.bound

    async def accept(self, update: dict[str, Any]) -> Accepted:
        """Writes the update durably and starts handling it if this process holds it.

        Raises `Busy` at the bound, and whatever the database raises (nothing was promised:
        the caller answers 503 and Telegram redelivers)."""
        if self.full:
            raise Busy
        self._reserved += 1
        try:
            async with self.uows() as uow:
                outcome = await service.accept(uow, update, owner=self.owner, lease=self.lease)
        finally:
            self._reserved -= 1
        if outcome is not Accepted.DUPLICATE:
            self._start(int(update["update_id"]), update)
        return outcome

    def _start(self, update_id: int, update: dict[str, Any]) -> None:
        if update_id in self._tasks:
            return
        task = asyncio.create_task(self._handle(update_id, update), name=f"update-{update_id}")
        self._tasks[update_id] = task
        task.add_done_callback(lambda done: self._done(update_id, done))

    def _done(self, update_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(update_id) is task:
            del self._tasks[update_id]
        # Always retrieve the outcome: no "Task exception was never retrieved" at shutdown.
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("handling update %s failed", update_id, exc_info=exc)

    async def _handle(self, update_id: int, update: dict[str, Any]) -> None:
        error = None
        try:
            await self.feed(update)
        except Exception as exc:
            # Telegram was answered 2xx: an update the dispatcher cannot take is given up
            # (with its id in the log), not retried forever.
            log.exception("update %s failed and is dropped", update_id)
            error = f"{type(exc).__name__}: {exc}"
        await self._record(update_id, error)

    async def _record(self, update_id: int, error: str | None) -> None:
        try:
            async with self.uows() as uow:
                if not await service.finish(uow, update_id, self.owner, error=error):
                    log.warning("update %s: its lease lapsed while it was handled", update_id)
        except Exception as exc:
            # Kept, and its lease extended, until the database takes it: else another process
            # would handle it again.
            log.warning("update %s handled; recording that is retried: %r", update_id, exc)
            self._unrecorded[update_id] = error

    async def tick(self) -> int:
        """One round: record what is handled, extend the leases held, and take up to the bound
        pending updates whose leases lapsed. Returns how many it took."""
        for update_id, error in list(self._unrecorded.items()):
            del self._unrecorded[update_id]
            await self._record(update_id, error)
        held = [*self._tasks, *self._unrecorded]
        if held:
            async with self.uows() as uow:
                await service.extend(uow, held, self.owner, self.lease)
        room = self.bound - self.in_flight
        if room <= 0 or self._stopping.is_set():
            return 0
        async with self.uows() as uow:
            claimed = await service.claim_due(uow, owner=self.owner, limit=room, lease=self.lease)
        for row in claimed:
            log.info("update %s: taking over (its process stopped or died)", row.update_id)
            self._start(row.update_id, row.payload or {"update_id": row.update_id})
        return len(claimed)

    async def run(self) -> None:
        """Until `stop`: a tick every `every` seconds; a failing tick is logged and retried."""
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception as exc:
                log.warning("inbox: a round failed (retried): %r", exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.every):
                    await self._stopping.wait()

    async def stop(self, grace: float) -> None:
        """Stops taking updates; waits up to `grace` seconds for those in flight; gives the rest
        back to the other processes."""
        self._stopping.set()
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        left = [update_id for update_id, task in self._tasks.items() if not task.done()]
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        for update_id, error in list(self._unrecorded.items()):
            del self._unrecorded[update_id]
            await self._record(update_id, error)
        if left:
            log.warning("stopping with %s updates unhandled: given back to the inbox", len(left))
            try:
                async with self.uows() as uow:
                    await service.release(uow, left, self.owner)
            except Exception as exc:
                log.warning("could not give updates back (their leases will lapse): %r", exc)

    async def drain(self) -> None:
        """Waits for the updates taken so far (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
