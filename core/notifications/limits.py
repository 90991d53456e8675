"""Send-rate limits: overall per second, per chat, per group per minute, and 429 pauses.

Telegram counts these per *bot*, whichever process sends. Two stages grant a send:

- `RateLimiter`, in this process: sends to one chat go one at a time in the order they asked,
  an interval apart counted from the end of the previous one; starts are spaced by the overall
  rate and a send counts against it until a second after it ended; a 429 pauses everyone here.
- `FleetLimits`, on `core.limits.Limiter`: the same three limits as moving windows keyed by the
  bot's id, in Redis when REDIS_URL is set, so the whole fleet together stays within them (a
  process without REDIS_URL is the whole fleet: the first stage alone holds the limits, see
  shopdesk/app.py). When Redis does not answer, the send *waits* (backing off up
  to `MAX_BACKOFF` seconds between tries) and is never sent uncounted: exceeding Telegram's
  limits gets the bot throttled for everyone. A message that waited past its lease goes back
  to the outbox (see `bot/notifications/sender.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core.limits import Limiter, LimitsUnavailable, per_minute, per_second

log = logging.getLogger(__name__)
# Redis unreachable: the next try after 0.25 s, doubling up to this.
MAX_BACKOFF = 10.0
# The fleet's overall window grants this share of SEND_PER_SECOND: a send counts from when it
# starts, and uneven network delays can bunch a few per cent more into one second at Telegram.
HEADROOM = 0.95


@dataclass(frozen=True, slots=True)
class Limits:
    per_second: float = 30.0
    per_chat_per_second: float = 1.0
    group_per_minute: int = 20


class RateLimiter:
    """Grants send slots.

    Sends to one chat run one at a time, in the order they asked, and the next may start only
    a full interval after the previous one *finished* — so however the network delays a
    request, two messages never reach one chat closer together than the limit. Across chats,
    starts are spaced by the overall rate, and a send counts against the overall budget of
    `per_second` from its start until a second after it *finished*: wherever in between it
    reaches Telegram, no second ever holds more (late wake-ups on a busy event loop cannot
    bunch sends together either). A 429 pauses everyone for its retry_after.
    """

    def __init__(
        self,
        limits: Limits,
        *,
        fleet: FleetLimits | None = None,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self.fleet = fleet
        self._now = now
        self._sleep = sleep
        self._next_global = 0.0
        self._budget = max(1, int(limits.per_second))
        self._running = 0  # sends started and not finished
        self._ends: deque[float] = deque()  # when sends finished, within the last second
        self._paused_until = 0.0
        self._next_chat: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = defaultdict(deque)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = defaultdict(int)

    @asynccontextmanager
    async def slot(self, chat_id: int, *, is_group: bool = False) -> AsyncIterator[None]:
        self._users[chat_id] += 1
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        try:
            async with lock:
                await self._wait_for_chat(chat_id, is_group)
                await self._wait_for_global()
                try:
                    if self.fleet is not None:
                        await self.fleet.acquire(chat_id, is_group=is_group)
                    yield
                finally:
                    self._sent(chat_id, is_group)
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id], self._locks[chat_id]
                self._forget(chat_id)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._now() + seconds)

    async def _wait_for_chat(self, chat_id: int, is_group: bool) -> None:
        while True:
            ready = max(self._next_chat.get(chat_id, 0.0), self._paused_until)
            if is_group:
                window = self._group_sends[chat_id]
                while window and window[0] <= self._now() - 60:
                    window.popleft()
                if len(window) >= self.limits.group_per_minute:
                    ready = max(ready, window[0] + 60)
            delay = ready - self._now()
            if delay <= 0:
                return
            await self._sleep(delay)

    async def _wait_for_global(self) -> None:
        while True:
            # Reserve without awaiting in between, so concurrent senders never share a slot.
            slot = max(self._now(), self._next_global, self._paused_until)
            self._next_global = slot + 1 / self.limits.per_second
            delay = slot - self._now()
            if delay > 0:
                await self._sleep(delay)
            while (wait := self._budget_wait()) > 0:
                await self._sleep(wait)
            if self._now() >= self._paused_until:
                self._running += 1
                return

    def _budget_wait(self) -> float:
        """How long until one more send fits in the overall budget (0: it fits now)."""
        now = self._now()
        while self._ends and self._ends[0] <= now - 1:
            self._ends.popleft()
        if self._running + len(self._ends) < self._budget:
            return 0.0
        return self._ends[0] + 1 - now if self._ends else 1 / self.limits.per_second

    def _sent(self, chat_id: int, is_group: bool) -> None:
        done = self._now()
        self._running -= 1
        self._ends.append(done)
        self._next_chat[chat_id] = done + 1 / self.limits.per_chat_per_second
        if is_group:
            self._group_sends[chat_id].append(done)

    def _forget(self, chat_id: int) -> None:
        """Drops a chat's state once nothing to it is waiting and its limits have lapsed."""
        now = self._now()
        if self._next_chat.get(chat_id, 0.0) <= now:
            self._next_chat.pop(chat_id, None)
        window = self._group_sends.get(chat_id)
        if window is not None and (not window or window[-1] <= now - 60):
            del self._group_sends[chat_id]


class FleetLimits:
    """The bot's limits across every process sharing the limiter's storage.

    A send takes one hit of the overall window, then of its chat's (and its group's minute).
    This process already spaces the sends to one chat (`RateLimiter`), so the chat's window is
    busy only when another process sent to it within the interval: that send's overall hit then
    stays counted and it tries again when the chat's window has room (the fleet sends less,
    never more). In this process one send at a time takes its hits, so a busy fleet does not
    wake every waiting send at once, and a send starts right after its overall hit (the moving
    window holds when the sends reach Telegram too, give or take network delays: `HEADROOM`).
    """

    def __init__(
        self,
        limiter: Limiter,
        bot_id: int | str,
        limits: Limits,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limiter, self.bot = limiter, str(bot_id)
        self.overall = per_second(max(1.0, limits.per_second * HEADROOM))
        self.chat = per_second(limits.per_chat_per_second)
        self.group = per_minute(limits.group_per_minute)
        self._sleep = sleep
        self._turn = asyncio.Lock()

    async def acquire(self, chat_id: int, *, is_group: bool = False) -> None:
        """Returns once this send is counted in every window it belongs to."""
        backoff = 0.25
        while True:
            try:
                if await self._take(str(chat_id), is_group):
                    return
                backoff = 0.25
            except LimitsUnavailable as exc:
                log.warning("send limits unreachable (%s): waiting %.2f s", exc, backoff)
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def _take(self, chat: str, is_group: bool) -> bool:
        """One try: True when counted; False after waiting for a window to make room."""
        chat_key = ("tg", self.bot, "chat", chat)
        group_key = ("tg", self.bot, "group", chat)
        async with self._turn:
            while wait := await self.limiter.hit(self.overall, "tg", self.bot, "all"):
                await self._sleep(wait)
            # Still in turn: the send starts right after its overall hit, not behind others'.
            wait = await self.limiter.hit(self.chat, *chat_key)
            if not wait and is_group:
                wait = await self.limiter.hit(self.group, *group_key)
        if wait:
            await self._sleep(wait)
            return False
        return True
