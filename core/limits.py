"""Rate limits on the `limits` library: shared by the fleet in Redis, or held in this process.

One `Limiter` per process, built by the composition root from REDIS_URL: with it, every process
of the fleet counts in the same Redis keys (a limit of N holds for all of them together);
without it, the library's memory storage counts for this process alone. Every limit is a
*moving window* (the library's exact strategy: a hit is granted only if fewer than `amount` hits
fall in the last `seconds`), so no second and no minute ever holds more than the limit.

When Redis does not answer, `hit` / `retry_after` raise `LimitsUnavailable`, unless the limiter
was given a fallback: then they count in this process's memory meanwhile (a fleet of N processes
allows up to N× the limit until Redis is back), and a warning is logged. Each caller chooses:
the intake API falls back (it keeps taking orders and still refuses floods before any database
query); the Telegram sender does not (it waits: Telegram's limits are hard, see
`core/notifications/limits.py`).

Moving-window entries carry the clock of the process that made them: a fleet on several hosts
keeps their clocks in sync (NTP), as any Redis-based limiter needs.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

__all__ = ["Limiter", "LimitsUnavailable", "MemoryStorage", "per_minute", "per_second"]

log = logging.getLogger(__name__)

# Redis must answer within this, or the call counts as "Redis unreachable".
REDIS_TIMEOUT = 1.0
# A fallback logs its warning at most this often.
WARN_EVERY = 60.0


class LimitsUnavailable(Exception):
    """The shared storage (Redis) did not answer; nothing was counted."""


def per_second(rate: float) -> RateLimitItem:
    """`rate` hits a second as a window the library counts: 30 → 30 per second; below one,
    one per whole number of seconds (0.5 → 1 per 2 seconds); fractions above one round down."""
    if rate >= 1:
        return RateLimitItemPerSecond(int(rate))
    return RateLimitItemPerSecond(1, math.ceil(1 / rate - 1e-9))


def per_minute(amount: int) -> RateLimitItem:
    return RateLimitItemPerMinute(max(1, int(amount)))


def redis_storage(url: str, prefix: str) -> RedisStorage:
    """The library's async Redis storage on the redis-py client (already a dependency)."""
    scheme, _, rest = url.partition("://")
    scheme = {"unix": "redis+unix"}.get(scheme, scheme)
    return RedisStorage(
        f"async+{scheme}://{rest}",
        implementation="redispy",
        key_prefix=prefix,
        wrap_exceptions=True,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
    )


class Limiter:
    """Moving-window limits over one storage; keys are the limit's name and identifiers."""

    def __init__(
        self,
        storage: Storage,
        *,
        fallback: Storage | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.shared = not isinstance(storage, MemoryStorage)
        self._strategy = MovingWindowRateLimiter(storage)
        self._fallback = MovingWindowRateLimiter(fallback) if fallback is not None else None
        self._now = now
        self._warned = -math.inf

    @classmethod
    def build(
        cls, redis_url: str | None, *, prefix: str = "shopdesk", fallback: bool = False
    ) -> Limiter:
        """Shared in Redis when `redis_url` is set (with a memory `fallback` if asked), else
        in this process's memory."""
        if not redis_url:
            return cls(MemoryStorage())
        return cls(redis_storage(redis_url, prefix), fallback=MemoryStorage() if fallback else None)

    async def hit(self, item: RateLimitItem, *key: str) -> float:
        """Takes one hit if it fits: 0.0; else the seconds until one would (nothing taken)."""
        strategy = self._strategy
        try:
            if await strategy.hit(item, *key):
                return 0.0
            return await self._wait(strategy, item, key)
        except (StorageError, OSError) as exc:
            strategy = self._unavailable(exc)
        if await strategy.hit(item, *key):
            return 0.0
        return await self._wait(strategy, item, key)

    async def retry_after(self, item: RateLimitItem, *key: str) -> float:
        """0.0 if one more hit would fit now (nothing taken), else the seconds until it would."""
        strategy = self._strategy
        try:
            return await self._peek(strategy, item, key)
        except (StorageError, OSError) as exc:
            strategy = self._unavailable(exc)
        return await self._peek(strategy, item, key)

    async def _peek(
        self, strategy: MovingWindowRateLimiter, item: RateLimitItem, key: tuple[str, ...]
    ) -> float:
        if await strategy.test(item, *key):
            return 0.0
        return await self._wait(strategy, item, key)

    async def _wait(
        self, strategy: MovingWindowRateLimiter, item: RateLimitItem, key: tuple[str, ...]
    ) -> float:
        stats = await strategy.get_window_stats(item, *key)
        if stats.remaining > 0:  # the oldest hit just left the window: try again now
            return 0.001
        return max(0.001, stats.reset_time - self._now())

    def _unavailable(self, exc: BaseException) -> MovingWindowRateLimiter:
        if self._fallback is None:
            raise LimitsUnavailable(repr(exc)) from exc
        if self._now() - self._warned >= WARN_EVERY:
            self._warned = self._now()
            log.warning("rate limits: Redis unreachable (%r), counting in this process", exc)
        return self._fallback

    async def close(self) -> None:
        """Closes the Redis client's connections (the library opens them; it has no close)."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()

    async def check(self) -> bool:
        """Whether the storage answers (for readiness and tests)."""
        try:
            return bool(await self.storage.check())
        except (StorageError, OSError):
            return False
