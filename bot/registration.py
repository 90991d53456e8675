"""Registering the bot with Telegram (menu, webhook) without making the process wait for it.

When Telegram (or the local Bot API server) is unreachable at start, the intake API, the
scheduler and the webhook endpoint run anyway: `TelegramRegistration.run` retries in the
background with capped, jittered exponential backoff, and `check` tells /readyz how far it got.
`patient_me` keeps aiogram's long polling from dying on its first `getMe` while Telegram is down.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from aiogram import Bot
from aiogram.types import User

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY = 2.0  # seconds before the first retry


def backoff_delays(
    cap: float, *, first: float = FIRST_DELAY, rng: random.Random | None = None
) -> Iterator[float]:
    """Endless retry delays: `first`, doubling up to `cap`, each with ±20 % jitter (never
    above `cap`), so that a fleet restarted together does not retry in lockstep."""
    rng = rng or random.Random()
    base = min(first, cap)
    while True:
        yield min(cap, base * rng.uniform(0.8, 1.2))
        base = min(cap, base * 2)


async def retrying(what: str, attempt: Callable[[], Awaitable[T]], delays: Iterator[float]) -> T:
    """`attempt()` until it succeeds; every failure is logged and followed by the next delay.
    Cancellation (shutdown) passes through at once."""
    tries = 0
    while True:
        try:
            return await attempt()
        except Exception as exc:  # unreachable, 5xx, timeouts: all mean "try again later"
            tries += 1
            delay = next(delays)
            log.warning("%s failed (attempt %s: %s); retrying in %.1f s", what, tries, exc, delay)
            await asyncio.sleep(delay)


Step = tuple[str, Callable[[], Awaitable[object]]]


class TelegramNotReady(Exception):
    """The /readyz check of a registration that has not succeeded yet."""


@dataclass
class TelegramRegistration:
    """Runs `steps` (name, call) in order, each retried until it succeeds."""

    steps: Sequence[Step]
    retry_max_seconds: float
    # Webhook mode: no update arrives before setWebhook succeeded, so the process is not ready.
    # Long polling: getUpdates retries by itself and the intake API works: "pending", ready.
    blocks_readiness: bool = True
    first_delay: float = FIRST_DELAY
    done: asyncio.Event = field(default_factory=asyncio.Event)
    pending: str | None = None  # the step being retried

    async def run(self) -> None:
        for name, call in self.steps:
            self.pending = name
            await retrying(name, call, self.delays())
        self.pending = None
        self.done.set()
        log.info("registered with Telegram: %s", ", ".join(name for name, _ in self.steps))

    def delays(self) -> Iterator[float]:
        return backoff_delays(self.retry_max_seconds, first=self.first_delay)

    async def check(self) -> str | None:
        """For /readyz: None once every step succeeded; before, raises (webhook mode) or
        returns "pending" (long polling: reported, not counted against readiness)."""
        if self.done.is_set():
            return None
        if self.blocks_readiness:
            raise TelegramNotReady(f"{self.pending or 'registration'} has not succeeded yet")
        return "pending"


def patient_me(bot: Bot, delays: Callable[[], Iterator[float]]) -> Callable[[], Awaitable[User]]:
    """`bot.me()` that retries `getMe` instead of raising: aiogram's `_polling` asks for it
    before its (already retrying) getUpdates loop, and one failure there ends the process."""
    plain = bot.me

    async def me() -> User:
        return await retrying("getMe", plain, delays())

    return me
