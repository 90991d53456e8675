"""Real bot processes draining one outbox under one shared send limit (Redis), seen from the
Telegram stand-in: what `tests/e2e/test_fleet_limits.py` asserts and `make bench` measures."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from redis.asyncio import Redis
from sqlalchemy import func, select

from core.accounts.models import Account
from core.clock import SystemClock
from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from core.notifications import outbox
from core.notifications.limits import HEADROOM
from core.notifications.models import OutboxMessage
from tests.support.botprocess import BotProcess, bot_env
from tests.support.factories import new_account
from tests.support.telegram_standin import WINDOW, TelegramStandIn

FIRST_CHAT = 7_000_000


@dataclass
class FleetSend:
    count: int
    limit: int
    delivered: list[tuple[int, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # when the stand-in accepted each
    attempts: int = 0  # sendMessage requests, accepted or answered 429
    answered_429: int = 0
    sent_by_process: list[int] = field(default_factory=list)  # shopdesk_messages_sent_total
    shared_window_seen: bool = False  # the bot's overall send window was seen in Redis
    unsent: int = 0  # outbox rows not marked sent at the end

    @property
    def lost(self) -> int:
        return self.count - len(set(self.delivered))

    @property
    def duplicates(self) -> int:
        return len(self.delivered) - len(set(self.delivered))

    @property
    def rate(self) -> float:
        """Messages a second, from the first accepted to the last."""
        span = max(self.times) - min(self.times) if len(self.times) > 1 else 0.0
        return (len(self.times) - 1) / span if span else 0.0

    @property
    def share_429(self) -> float:
        return self.answered_429 / self.attempts if self.attempts else 0.0

    def most_in_one_second(self, window: float = WINDOW) -> int:
        """The most messages the stand-in accepted within `window` seconds (its own measure of
        a second: loopback arrival jitter is not the sender's doing)."""
        times, most, first = sorted(self.times), 0, 0
        for last, at in enumerate(times):
            while times[first] <= at - window:
                first += 1
            most = max(most, last - first + 1)
        return most


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def send_across_processes(
    *,
    database_url: str,
    redis_url: str,
    prefix: str,
    folder: Path,
    count: int,
    limit: int,
    processes: int = 2,
    standin_enforces: bool = False,
    timeout: float = 120,
) -> FleetSend:
    """Starts `processes` bot processes (long polling) on one database and one Redis, each
    allowed `limit` sends a second (SEND_PER_SECOND) *for the fleet*; once all are up, writes
    `count` notifications (one per chat) to the outbox and waits until the stand-in has them
    all (or `timeout`). `standin_enforces`: the stand-in answers 429 beyond `limit` a second."""
    standin = TelegramStandIn(per_second=limit if standin_enforces else None)
    await standin.start()
    engine = create_engine(database_url, pool_size=2)
    uows = UnitOfWorkFactory(session_factory(engine), SystemClock())
    ports = [free_port() for _ in range(processes)]
    fleet = [
        BotProcess(
            bot_env(
                standin,
                database_url,
                REDIS_URL=redis_url,
                RATE_LIMITS_PREFIX=prefix,
                SEND_PER_SECOND=str(limit),
                HTTP_PORT=str(port),
                LOG_LEVEL="WARNING",
            ),
            folder / f"sender{index}.log",
        ).start()
        for index, port in enumerate(ports)
    ]
    result = FleetSend(count, limit)
    # The key the `limits` library keeps the bot's overall window in (a moving window of one
    # second: it lives while sends go on).
    bot_id = standin.token.partition(":")[0]
    window = f"{prefix}:LIMITER/tg/{bot_id}/all/{int(limit * HEADROOM)}/1/second"
    redis = Redis.from_url(redis_url)
    try:
        async with aiohttp.ClientSession() as http:
            for process, port in zip(fleet, ports, strict=True):
                await _live(http, process, port)
            owner = await new_account(uows, name="Fleet", owner_tg=FIRST_CHAT - 1)
            async with uows() as uow:
                account = await uow.session.get(Account, owner.account_id)
                await outbox.enqueue(
                    uow,
                    account=account,
                    event_key="fleet",
                    kind="test",
                    params={"n": 0},
                    recipients=[outbox.Recipient(FIRST_CHAT + n, "en") for n in range(count)],
                    respect_quiet_hours=False,
                )
                await uow.commit()
            deadline = time.monotonic() + timeout
            while len(standin.delivered) < count and time.monotonic() < deadline:
                for process in fleet:
                    assert process.popen.poll() is None, "a process died:\n" + process.log()
                if not result.shared_window_seen:
                    result.shared_window_seen = bool(await redis.exists(window))
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # a duplicate would come now
            for port in ports:
                result.sent_by_process.append(await _sent(http, port))
    finally:
        await asyncio.gather(*(process.stop() for process in fleet))
        await standin.stop()
        await redis.aclose()
    async with engine.connect() as conn:
        result.unsent = await conn.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        )
    await engine.dispose()
    result.delivered = list(standin.delivered)
    result.times = list(standin.delivered_at)
    result.attempts = len(standin.calls_of("sendMessage"))
    result.answered_429 = standin.answered_429
    return result


async def _live(http: aiohttp.ClientSession, process: BotProcess, port: int) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert process.popen.poll() is None, "the process died:\n" + process.log()
        try:
            async with http.get(f"http://127.0.0.1:{port}/livez") as reply:
                if reply.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        assert time.monotonic() < deadline, "the process did not come up:\n" + process.log()
        await asyncio.sleep(0.1)


async def _sent(http: aiohttp.ClientSession, port: int) -> int:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as reply:
        text = await reply.text()
    found = re.search(r"^shopdesk_messages_sent_total (\S+)$", text, re.MULTILINE)
    return int(float(found.group(1))) if found else 0
