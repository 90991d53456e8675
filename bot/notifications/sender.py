"""Drains the outbox: rate-limited, retrying 429s and network errors, once per message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.utils.i18n import I18n

from bot.metrics import Metrics
from bot.notifications.render import UnknownKind, render, renderers
from bot.requests import background_send
from core.db.uow import UnitOfWorkFactory
from core.notifications import outbox
from core.notifications.limits import RateLimiter
from core.notifications.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=5)
# A claimed message is ours for LEASE; we never start a send later than LEASE - SEND_MARGIN after
# claiming (a send may take up to aiogram's request timeout), so no other sender can take it over
# while we may still be sending it. After a crash, claimed rows go out when the lease ends.
LEASE = timedelta(minutes=5)
SEND_MARGIN = timedelta(seconds=90)


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        uows: UnitOfWorkFactory,
        i18n: I18n,
        limiter: RateLimiter,
        *,
        batch_size: int = 100,
        poll_interval: float = 1.0,
        metrics: Metrics | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.bot, self.uows, self.i18n, self.limiter = bot, uows, i18n, limiter
        self.metrics = metrics
        self.lease = lease
        # Never start a send later than this after claiming: the send itself must end in time.
        self.send_window = lease - min(SEND_MARGIN, lease * 0.4)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.owner = f"sender-{uuid.uuid4().hex[:12]}"
        self.renderers = renderers()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next poll."""
        self._wake.set()

    async def drain_once(self) -> int:
        async with self.uows() as uow:
            batch = await outbox.claim_due(
                uow, owner=self.owner, limit=self.batch_size, lease=self.lease
            )
        deadline = asyncio.get_running_loop().time() + self.send_window.total_seconds()
        await asyncio.gather(*(self._deliver(message, deadline) for message in batch))
        return len(batch)

    async def drain(self) -> int:
        """Sends everything due now; for tests, the console and shutdown."""
        total = 0
        while count := await self.drain_once():
            total += count
        return total

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                sent = await self.drain_once()
            except Exception:
                log.exception("outbox drain failed")
                sent = 0
            if sent:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def _deliver(self, message: OutboxMessage, deadline: float) -> None:
        background_send.set(True)  # this task's own context: 429s are ours to handle
        try:
            with self.i18n.context(), self.i18n.use_locale(message.locale):
                text, markup = render(message.kind, message.params, self.renderers)
        except (UnknownKind, KeyError, ValueError) as exc:
            log.error("outbox %s: cannot render %s: %r", message.id, message.kind, exc)
            await self._finish_failed(message, "render", repr(exc), unreachable=False)
            return
        try:
            async with self.limiter.slot(message.chat_id, is_group=message.is_group):
                if asyncio.get_running_loop().time() > deadline:
                    sent = None
                else:
                    sent = await self.bot.send_message(message.chat_id, text, reply_markup=markup)
        except TelegramRetryAfter as exc:
            self._count("retry_after")
            self.limiter.pause(exc.retry_after)
            await self._retry(
                message, timedelta(seconds=exc.retry_after), "retry_after", str(exc.retry_after)
            )
        except TelegramForbiddenError as exc:
            self._count("forbidden")
            await self._finish_failed(message, "forbidden", exc.message, unreachable=True)
        except (TelegramNetworkError, TelegramServerError) as exc:
            self._count("network")
            delay = min(timedelta(seconds=2 ** min(message.attempts + 1, 10)), MAX_BACKOFF)
            await self._retry(message, delay, "network", exc.message)
        except TelegramBadRequest as exc:
            self._count("bad_request")
            await self._finish_failed(message, "bad_request", exc.message, unreachable=False)
        else:
            async with self.uows() as uow:
                if sent is None:
                    await outbox.release(uow, message.id, self.owner)
                else:
                    await outbox.mark_sent(uow, message.id, self.owner, sent.message_id)
                    self._count("sent")

    def _count(self, outcome: str) -> None:
        if self.metrics is None:
            return
        if outcome == "sent":
            self.metrics.sent.inc()
        elif outcome == "retry_after":
            self.metrics.throttled.inc()
        else:
            self.metrics.failed.labels(outcome).inc()

    async def _retry(
        self, message: OutboxMessage, delay: timedelta, outcome: str, error: str
    ) -> None:
        log.info("outbox %s: %s, retrying in %s", message.id, outcome, delay)
        async with self.uows() as uow:
            await outbox.mark_retry(
                uow, message.id, self.owner, delay=delay, outcome=outcome, error=error
            )

    async def _finish_failed(
        self, message: OutboxMessage, outcome: str, error: str, *, unreachable: bool
    ) -> None:
        log.warning("outbox %s: %s: %s", message.id, outcome, error)
        async with self.uows() as uow:
            await outbox.mark_failed(
                uow, message.id, self.owner, outcome=outcome, error=error, unreachable=unreachable
            )
            if unreachable and not message.is_group:
                await outbox.set_reachable(uow, message.chat_id, False)
