"""Drains the outbox: rate-limited, retrying 429s and network errors, once per message.

Each claimed message is sent in its own task, and the next batch is claimed while earlier ones
are still sending. What came of the sends is written in batches (`outbox.record`, one
transaction every `flush_size` outcomes or `flush_interval` seconds). A message is *in flight*
from its claim until its outcome is committed, and at most `max_in_flight` are (no claim is
made past that): a crash can leave at most that many rows sent but not marked, and only those
are sent again, when their lease lapses. Rows whose outcome was committed are never sent again.

A row with `edit_of` edits the message its chat got under that event key: resolved when it is
claimed, it waits while that message is unsent (for the send in its own batch, else a retry
later), and is skipped when that message failed or a newer edit of it exists. Telegram's
"message is not modified" counts as done. A renderer may give a `DocumentMessage` instead of
text: its file is built off the event loop at send time and sent with its caption; or a
`ChatMenu`: the chat's menu button is set (`setChatMenuButton`) instead of a message. This sender
is the only code that sends or edits a Telegram message on its own initiative; handlers only
answer the update in front of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, SendMessage
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n

from bot.lifecycle import wait_or_time_out
from bot.notifications.document import DocumentMessage
from bot.notifications.menu import ChatMenu
from bot.notifications.render import UnknownKind, render, renderers
from bot.requests import background_send
from core.db.uow import UnitOfWorkFactory
from core.metrics import Metrics
from core.notifications import outbox
from core.notifications.limits import RateLimiter
from core.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=5)
# An edit whose message is not sent yet looks again after this (doubling, up to a minute).
EDIT_WAIT = timedelta(seconds=2)
NOT_MODIFIED = "message is not modified"
# A claimed message is ours for LEASE; we never start a send later than LEASE - SEND_MARGIN after
# claiming (a send may take up to aiogram's request timeout, and its outcome is written within
# flush_interval after it), so no other sender can take it over while we may still be sending
# it. After a crash, claimed rows go out when the lease ends.
LEASE = timedelta(minutes=5)
SEND_MARGIN = timedelta(seconds=90)


@dataclass(eq=False)
class _Pump:
    """One drain or run: its delivery tasks and the first unexpected error among them."""

    tasks: dict[asyncio.Task[outbox.Finished], OutboxMessage] = field(default_factory=dict)
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class _Edit:
    """How a claimed edit goes: its resolved target, and the send of that target when it is
    in the same batch (the edit then waits for it instead of for a retry)."""

    target: outbox.EditTarget
    sending: asyncio.Task[outbox.Finished] | None = None


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        uows: UnitOfWorkFactory,
        i18n: I18n,
        limiter: RateLimiter,
        *,
        batch_size: int = 100,
        max_in_flight: int | None = None,
        flush_size: int = 50,
        flush_interval: float = 0.05,
        poll_interval: float = 1.0,
        metrics: Metrics | None = None,
        lease: timedelta = LEASE,
        board_url: str | None = None,
    ) -> None:
        self.bot, self.uows, self.i18n, self.limiter = bot, uows, i18n, limiter
        self.metrics = metrics
        self.lease = lease
        # Never start a send later than this after claiming: the send itself must end in time.
        self.send_window = lease - min(SEND_MARGIN, lease * 0.4)
        self.batch_size = batch_size
        self.max_in_flight = max(max_in_flight or 2 * batch_size, batch_size)
        self.flush_size = flush_size
        self.flush_interval = flush_interval
        self.poll_interval = poll_interval
        self.owner = f"sender-{uuid.uuid4().hex[:12]}"
        self.renderers = renderers(board_url)
        # aiogram validates every answer with `Response[SendMessage.__returning__]`, and pydantic
        # caches that parametrized model only weakly: once the garbage collector drops it, the
        # next answer builds it again (~1 ms). Holding it keeps the cached one.
        self._response_model = Response[SendMessage.__returning__]
        self._in_flight = 0  # claimed, outcome not committed yet
        self._unwritten: list[tuple[outbox.Finished, OutboxMessage]] = []
        self._sending: set[int] = set()  # ids whose request may have reached Telegram
        self._db = asyncio.Lock()  # our claims and writes never queue on SQLite's write lock
        self._outcomes = asyncio.Event()  # something is unwritten
        self._full = asyncio.Event()  # flush_size outcomes are unwritten
        self._room = asyncio.Event()  # in-flight count went down, or an error: look again
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Claim nothing more, give back what has not started sending, finish the rest."""
        self._stopping.set()
        self._wake.set()
        self._room.set()

    async def drain(self) -> int:
        """Sends everything due now and returns how many were claimed; for tests, the console."""
        return await self._pump(until_idle=True)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._pump(until_idle=False)
            except Exception:
                log.exception("outbox sender failed")
                await wait_or_time_out(self._stopping, self.poll_interval)

    async def _pump(self, *, until_idle: bool) -> int:
        pump, total = _Pump(), 0
        flusher = asyncio.create_task(self._flush_loop())
        self._signal()
        try:
            while not self._stopping.is_set() and pump.error is None:
                if self._in_flight > self.max_in_flight - self.batch_size:
                    self._room.clear()
                    await self._room.wait()
                    continue
                self._wake.clear()
                batch, targets = await self._claim()
                if batch:
                    total += len(batch)
                    self._start(pump, batch, targets)
                elif until_idle:
                    break
                else:
                    await wait_or_time_out(self._wake, self.poll_interval)
        finally:
            await self._settle(pump)
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await self._write()
        if pump.error is not None:
            raise pump.error
        return total

    async def _claim(self) -> tuple[list[OutboxMessage], dict[int, outbox.EditTarget]]:
        self._in_flight += self.batch_size  # reserved first: concurrent pumps stay in bounds
        batch: list[OutboxMessage] = []
        targets: dict[int, outbox.EditTarget] = {}
        try:
            async with self._db, self.uows() as uow:
                batch = await outbox.claim_due(
                    uow, owner=self.owner, limit=self.batch_size, lease=self.lease
                )
                targets = await outbox.edit_targets(uow, batch)
        finally:
            self._in_flight -= self.batch_size - len(batch)
        return batch, targets

    def _start(
        self, pump: _Pump, batch: list[OutboxMessage], targets: dict[int, outbox.EditTarget]
    ) -> None:
        deadline = asyncio.get_running_loop().time() + self.send_window.total_seconds()
        sends: dict[tuple[str, int], asyncio.Task[outbox.Finished]] = {}
        for message in batch:  # in id order: messages to one chat queue for it in this order
            edit = None
            if message.edit_of is not None:
                edit = _Edit(targets[message.id], sends.get((message.edit_of, message.chat_id)))
            task = asyncio.create_task(self._deliver(message, deadline, edit))
            sends[(message.event_key, message.chat_id)] = task
            pump.tasks[task] = message
            task.add_done_callback(functools.partial(self._delivered, pump, message))

    async def _settle(self, pump: _Pump) -> None:
        """Waits for the pump's deliveries. Stopping or cancelled, it first gives back those
        still waiting for their turn; after an error, every one finishes as it would."""
        current = asyncio.current_task()
        if self._stopping.is_set() or (current is not None and current.cancelling()):
            for task, message in pump.tasks.items():
                if message.id not in self._sending:
                    task.cancel()
        if pump.tasks:
            await asyncio.wait(list(pump.tasks))

    def _delivered(
        self, pump: _Pump, message: OutboxMessage, task: asyncio.Task[outbox.Finished]
    ) -> None:
        del pump.tasks[task]
        was_sending = message.id in self._sending
        self._sending.discard(message.id)
        if task.cancelled():
            if was_sending:
                self._abandon()  # it may have reached Telegram: its lease decides
            else:
                self._unwritten.append((outbox.Finished.released(message.id, self._now()), message))
                self._signal()
            return
        error = task.exception()
        if error is not None:
            log.error("outbox %s: delivery failed", message.id, exc_info=error)
            self._abandon()  # its lease lapses and it goes out again
            if pump.error is None:
                pump.error = error
            self._wake.set()
            return
        self._unwritten.append((task.result(), message))
        self._signal()

    def _abandon(self) -> None:
        self._in_flight -= 1
        self._room.set()

    def _signal(self) -> None:
        count = len(self._unwritten)
        (self._outcomes.set if count else self._outcomes.clear)()
        (self._full.set if count >= self.flush_size else self._full.clear)()

    async def _flush_loop(self) -> None:
        while True:
            await self._outcomes.wait()
            await wait_or_time_out(self._full, self.flush_interval)
            # Shielded: stopping the pump never cuts a commit in half.
            if not await asyncio.shield(self._write()):
                await asyncio.sleep(self.poll_interval)

    async def _write(self) -> bool:
        """Commits the outcomes gathered so far in one transaction; False if that failed."""
        async with self._db:
            batch = self._unwritten[:]
            if not batch:
                return True
            try:
                async with self.uows() as uow:
                    await outbox.record(uow, self.owner, [finished for finished, _ in batch])
                    for finished, message in batch:
                        if finished.status == OutboxStatus.UNREACHABLE and not message.is_group:
                            await outbox.set_reachable(uow, message.chat_id, False)
            except Exception:
                log.exception("outbox: writing %s outcomes failed, will retry", len(batch))
                return False
            del self._unwritten[: len(batch)]
            self._in_flight -= len(batch)
            self._signal()
            self._room.set()
            return True

    async def _edit_target(self, message: OutboxMessage, edit: _Edit) -> outbox.Finished | int:
        """The message id to edit, or what comes of the edit without sending it."""
        target = edit.target
        if target.waiting and edit.sending is not None:
            with contextlib.suppress(Exception):  # that send's own outcome reports its error
                sent = await edit.sending
                if sent.status == OutboxStatus.SENT and sent.telegram_id is not None:
                    return sent.telegram_id
        if target.message_id is not None:
            return target.message_id
        if target.skip is not None:
            log.info("outbox %s: edit skipped: %s", message.id, target.skip)
            return outbox.Finished.skipped(message.id, self._now(), outcome=target.skip)
        delay = min(EDIT_WAIT * 2**message.attempts, timedelta(minutes=1))
        return self._retry(message, delay, "waiting", "the message to edit is not sent yet")

    async def _deliver(
        self, message: OutboxMessage, deadline: float, edit: _Edit | None = None
    ) -> outbox.Finished:
        background_send.set(True)  # this task's own context: 429s are ours to handle
        edited = None
        if edit is not None:
            edited = await self._edit_target(message, edit)
            if isinstance(edited, outbox.Finished):
                return edited
        document = menu = None
        try:
            with self.i18n.context(), self.i18n.use_locale(message.locale):
                rendered = render(message.kind, message.params, self.renderers)
            if isinstance(rendered, ChatMenu):
                if rendered.button is None:
                    return outbox.Finished.skipped(message.id, self._now(), outcome="no_board")
                menu, text, markup = rendered.button, None, None
            elif isinstance(rendered, DocumentMessage):
                text, markup = rendered.caption, rendered.markup
                document = BufferedInputFile(
                    await asyncio.to_thread(rendered.build), filename=rendered.filename
                )
            else:
                text, markup = rendered
        except (UnknownKind, KeyError, ValueError) as exc:
            log.error("outbox %s: cannot render %s: %r", message.id, message.kind, exc)
            return self._failed(message, "render", repr(exc), unreachable=False)
        try:
            async with self.limiter.slot(message.chat_id, is_group=message.is_group):
                if asyncio.get_running_loop().time() > deadline:
                    return outbox.Finished.released(message.id, self._now())
                self._sending.add(message.id)
                if menu is not None:
                    await self.bot.set_chat_menu_button(chat_id=message.chat_id, menu_button=menu)
                    sent = None
                elif document is not None:
                    sent = await self.bot.send_document(
                        message.chat_id, document, caption=text, reply_markup=markup
                    )
                elif edited is None:
                    sent = await self.bot.send_message(message.chat_id, text, reply_markup=markup)
                else:
                    await self.bot.edit_message_text(
                        text=text, chat_id=message.chat_id, message_id=edited, reply_markup=markup
                    )
        except TelegramRetryAfter as exc:
            self._count("retry_after")
            self.limiter.pause(exc.retry_after)
            delay = timedelta(seconds=exc.retry_after)
            return self._retry(message, delay, "retry_after", str(exc.retry_after))
        except TelegramForbiddenError as exc:
            self._count("forbidden")
            return self._failed(message, "forbidden", exc.message, unreachable=True)
        except (TelegramNetworkError, TelegramServerError) as exc:
            self._count("network")
            delay = min(timedelta(seconds=2 ** min(message.attempts + 1, 10)), MAX_BACKOFF)
            return self._retry(message, delay, "network", exc.message)
        except TelegramBadRequest as exc:
            if edited is not None and NOT_MODIFIED in exc.message:
                return outbox.Finished.sent(message.id, self._now(), edited)  # already shown
            self._count("bad_request")
            return self._failed(message, "bad_request", exc.message, unreachable=False)
        self._count("sent")
        if edited is None:
            edited = sent.message_id if sent is not None else None  # a menu has no message
        return outbox.Finished.sent(message.id, self._now(), edited)

    def _now(self) -> datetime:
        return self.uows.clock.now()

    def _count(self, outcome: str) -> None:
        if self.metrics is None:
            return
        if outcome == "sent":
            self.metrics.sent.inc()
        elif outcome == "retry_after":
            self.metrics.throttled.inc()
        else:
            self.metrics.failed.labels(outcome).inc()

    def _retry(
        self, message: OutboxMessage, delay: timedelta, outcome: str, error: str
    ) -> outbox.Finished:
        log.info("outbox %s: %s, retrying in %s", message.id, outcome, delay)
        return outbox.Finished.retry(
            message.id, self._now(), delay=delay, outcome=outcome, error=error
        )

    def _failed(
        self, message: OutboxMessage, outcome: str, error: str, *, unreachable: bool
    ) -> outbox.Finished:
        log.warning("outbox %s: %s: %s", message.id, outcome, error)
        return outbox.Finished.failed(
            message.id, self._now(), outcome=outcome, error=error, unreachable=unreachable
        )
