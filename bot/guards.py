"""Guards in front of every update: repeats of an update_id, and members who flood the bot.

Both keep their memory in the process here; a fleet shares it through Redis (same interface).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.types import Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import pick_locale
from core.members.access import load_member


class UpdateMemory(Protocol):
    async def begin(self, update_id: int) -> bool:
        """True if this update_id is to be handled now; it is then 'in progress'."""

    async def finish(self, update_id: int, *, ok: bool) -> None:
        """Handled (remembered for the TTL), or failed (forgotten, so a redelivery runs again)."""


class MemoryUpdateMemory:
    """Bounded in size and in time. It dies with its process, so an in-progress mark never
    outlives a crash: a redelivery after a restart runs."""

    def __init__(
        self,
        *,
        max_size: int = 50_000,
        ttl: float = 3600,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_size, self.ttl, self._now = max_size, ttl, now
        self._seen: OrderedDict[int, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    async def begin(self, update_id: int) -> bool:
        now = self._now()
        while self._seen and (
            len(self._seen) >= self.max_size or next(iter(self._seen.values())) <= now - self.ttl
        ):
            self._seen.popitem(last=False)
        if update_id in self._seen:
            return False
        self._seen[update_id] = now
        return True

    async def finish(self, update_id: int, *, ok: bool) -> None:
        if not ok:
            self._seen.pop(update_id, None)


# Set in the middleware data of an update that was skipped as already seen.
REDELIVERED = "redelivered"
# Given with an update fed from the inbox (webhook mode), whose lease already makes this
# process the only one handling it: the memory is not asked.
FROM_INBOX = "from_inbox"


class DuplicateUpdateMiddleware(BaseMiddleware):
    """Telegram may deliver an update again (webhook retry, polling restart): run it once."""

    def __init__(self, memory: UpdateMemory) -> None:
        self.memory = memory

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        if data.get(FROM_INBOX):
            return await handler(event, data)
        if not await self.memory.begin(event.update_id):
            data[REDELIVERED] = True  # the metrics middleware, outside this one, reads it
            return None
        ok = False
        try:
            result = await handler(event, data)
            ok = True
            return result
        finally:
            await self.memory.finish(event.update_id, ok=ok)


class FloodMemory(Protocol):
    async def hit(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, notify): notify is True for the first refused update of a burst."""


class MemoryFloodMemory:
    def __init__(self, *, per_second: int = 20, now: Callable[[], float] = time.monotonic) -> None:
        self.per_second, self._now = per_second, now
        self._hits: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    async def hit(self, user_id: int) -> tuple[bool, bool]:
        now = self._now()
        window = self._hits.get(user_id)
        if window is None:
            window = self._hits[user_id] = deque()
        while window and window[0] <= now - 1:
            window.popleft()
        if len(window) >= self.per_second:
            notify = user_id not in self._warned
            self._warned.add(user_id)
            return False, notify
        window.append(now)
        self._warned.discard(user_id)
        if len(self._hits) > 10_000:
            self._hits = {u: w for u, w in self._hits.items() if w and w[-1] > now - 1}
        return True, False


class FloodMiddleware(BaseMiddleware):
    """More than N updates a second from one member: the rest are dropped, with one notice."""

    def __init__(self, memory: FloodMemory, i18n: I18n) -> None:
        self.memory, self.i18n = memory, i18n

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        allowed, notify = await self.memory.hit(user.id)
        if allowed:
            return await handler(event, data)
        if event.callback_query is not None:
            await event.callback_query.answer()
        if notify:
            locale = await self._member_locale(data, user.id)
            with (
                self.i18n.context(),
                self.i18n.use_locale(locale or pick_locale(data, self.i18n.default_locale)),
            ):
                await event.bot.send_message(
                    user.id, _("You are sending too fast; I skipped some. Please slow down.")
                )
        return None

    @staticmethod
    async def _member_locale(data: dict[str, Any], telegram_id: int) -> str | None:
        """The member's own language (else the account's) for the notice: this runs before
        the access middleware, so it is looked up here, once per flood."""
        uows = data.get("uows")
        if uows is None:
            return None
        async with uows() as uow:
            found = await load_member(uow, telegram_id)
        if found is None:
            return None
        member, account = found
        return member.locale or account.locale


class RedisUpdateMemory:
    """The handled-update memory shared by every bot process (long polling; webhook updates go
    through the inbox instead).

    `begin` marks the update in progress for `busy_ttl` seconds only (SET NX); `finish` turns
    the mark into "handled" for `ttl` seconds. So a redelivery after a crash mid-update runs
    once the dead process's mark lapses; one that finds the update in progress waits to see
    how that ends (handled: skipped; failed or lapsed: run here).
    """

    BUSY = b"busy"

    def __init__(
        self,
        redis,
        *,
        ttl: int = 3600,
        busy_ttl: int = 60,
        wait_step: float = 0.25,
        prefix: str,
    ) -> None:
        self.redis, self.ttl, self.busy_ttl, self.prefix = redis, ttl, busy_ttl, prefix
        self.wait_step = wait_step

    async def begin(self, update_id: int) -> bool:
        key = f"{self.prefix}:{update_id}"
        while True:
            if await self.redis.set(key, self.BUSY, nx=True, ex=self.busy_ttl):
                return True
            mark = await self.redis.get(key)
            if mark is None:  # lapsed or forgotten meanwhile: try again
                continue
            if mark not in (self.BUSY, self.BUSY.decode()):
                return False  # handled
            await asyncio.sleep(self.wait_step)  # in progress elsewhere; its mark lapses soon

    async def finish(self, update_id: int, *, ok: bool) -> None:
        if ok:
            await self.redis.set(f"{self.prefix}:{update_id}", b"done", ex=self.ttl)
        else:
            await self.redis.delete(f"{self.prefix}:{update_id}")


class RedisFloodMemory:
    """Per-member counters per second, shared by every bot process."""

    def __init__(
        self,
        redis,
        *,
        per_second: int = 20,
        prefix: str,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.redis, self.per_second, self.prefix, self._now = redis, per_second, prefix, now

    async def hit(self, user_id: int) -> tuple[bool, bool]:
        second = int(self._now())
        key = f"{self.prefix}:{user_id}:{second}"
        async with self.redis.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(key).expire(key, 2).execute()
        if count <= self.per_second:
            return True, False
        warned = await self.redis.set(f"{self.prefix}:warned:{user_id}", 1, nx=True, ex=2)
        return False, bool(warned)
