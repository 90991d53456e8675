"""Two real bot processes in webhook mode: an update answered 2xx is handled exactly once,
whatever happens to the process that took it, and what cannot be handled is not taken.

The processes share a PostgreSQL database (reached through a TCP proxy the test can cut) and a
PRIVATE redis-server on its own loopback port (the test stops and restarts it; the machine's
own Redis is never touched). The test plays Telegram: it posts updates, redelivers what was
refused, and holds a member's event lock in Redis (the lock every update of that member waits
on) to keep updates in flight for as long as it needs.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.engine import make_url

from core.clock import SystemClock
from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from core.inbox.models import InboxStatus, InboxUpdate
from core.settings import Settings
from tests.support.botprocess import BotProcess, bot_env
from tests.support.factories import join, new_account
from tests.support.tcp_proxy import TcpProxy
from tests.support.telegram_standin import TelegramStandIn

PG = os.environ.get("TEST_POSTGRES_URL")
REDIS_SERVER = shutil.which("redis-server")
SECRET = "durable-secret-0123456789"
BOUND = 6  # MAX_CONCURRENT_UPDATES of each process
LEASE = 4  # INBOX_LEASE_SECONDS
pytestmark = [
    pytest.mark.skipif(not PG, reason="TEST_POSTGRES_URL is needed (.ci/run sets it)"),
    pytest.mark.skipif(not REDIS_SERVER, reason="redis-server is needed for a private Redis"),
    pytest.mark.asyncio(loop_scope="module"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, without persistence, stopped and started at will."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, self.port = tmp, free_port()
        self.popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.popen = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:  # listening: a plain connect, without the client's retries and back-off
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                assert self.popen.poll() is None, "the private redis-server did not start"
                assert time.monotonic() < deadline, "the private redis-server did not listen"
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            await asyncio.to_thread(self.popen.wait, 20)


@dataclass
class Fleet:
    standin: TelegramStandIn
    uows: UnitOfWorkFactory
    proxy: TcpProxy
    redis: PrivateRedis
    owner: object
    processes: list[BotProcess] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    http: aiohttp.ClientSession | None = None

    def __post_init__(self) -> None:
        self.update_ids = iter(range(random.randint(10**8, 9 * 10**8), 10**9))

    def message(self, user_id: int, text: str = "/help") -> dict:
        user = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "language_code": "ru"}
        return {
            "update_id": next(self.update_ids),
            "message": {
                "message_id": random.randint(1, 10**6),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": user,
                "text": text,
            },
        }

    async def post(self, port: int, update: dict, secret: str | None = SECRET) -> int:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with self.http.post(
            f"http://127.0.0.1:{port}/telegram/webhook", json=update, headers=headers
        ) as reply:
            if reply.status == 503:
                assert reply.headers["Retry-After"].isdigit()
            return reply.status

    async def deliver(self, port: int, update: dict) -> int:
        """As Telegram delivers: again after each 503 until 200; returns how many 503s."""
        refused = 0
        deadline = time.monotonic() + 30
        while (status := await self.post(port, update)) == 503:
            refused += 1
            assert time.monotonic() < deadline, f"still 503\n{self.logs()}"
            await asyncio.sleep(0.1)
        assert status == 200, status
        return refused

    async def get(self, port: int, path: str) -> tuple[int, str]:
        async with self.http.get(f"http://127.0.0.1:{port}{path}") as reply:
            return reply.status, await reply.text()

    def replies(self, chat_id: int) -> int:
        return sum(
            1 for c in self.standin.calls_of("sendMessage") if int(c.params["chat_id"]) == chat_id
        )

    async def statuses(self, updates: list[dict]) -> dict[int, str]:
        ids = [u["update_id"] for u in updates]
        async with self.uows() as uow:
            rows = await uow.session.execute(
                select(InboxUpdate.update_id, InboxUpdate.status).where(
                    InboxUpdate.update_id.in_(ids)
                )
            )
            return {update_id: status for update_id, status in rows}

    async def until(self, check, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not await check():
            assert time.monotonic() < deadline, f"{what}: not reached\n{self.logs()}"
            await asyncio.sleep(0.05)

    async def all_handled(self, updates: list[dict]) -> None:
        async def handled() -> bool:
            statuses = await self.statuses(updates)
            return len(statuses) == len(updates) and set(statuses.values()) == {"handled"}

        await self.until(handled, "every accepted update handled")

    async def readiness(self, port: int, status: int) -> None:
        async def reached() -> bool:
            try:
                return (await self.get(port, "/readyz"))[0] == status
            except aiohttp.ClientConnectionError:
                return False

        await self.until(reached, f"/readyz {status} on {port}", timeout=90)

    async def redelivered(self) -> float:
        """shopdesk_updates_redelivered_total of messages, summed over the live processes."""
        total = 0.0
        for process, port in zip(self.processes, self.ports, strict=True):
            if process.popen.poll() is None:
                _, text = await self.get(port, "/metrics")
                for line in text.splitlines():
                    if line.startswith('shopdesk_updates_redelivered_total{type="message"}'):
                        total += float(line.split()[-1])
        return total

    def lock_name(self, user_id: int) -> str:
        """The member's event lock (aiogram's RedisEventIsolation, private chat), under the
        default REDIS_PREFIX."""
        return f"{Settings.model_fields['redis_prefix'].default}:fsm:{user_id}:{user_id}:lock"

    def logs(self) -> str:
        return "\n".join(p.log() for p in self.processes)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fleet(pg_databases, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("durable")
    url = await pg_databases.create()
    engine = create_engine(url, pool_size=5)
    uows = UnitOfWorkFactory(session_factory(engine), SystemClock())
    owner = await new_account(uows, owner_tg=random.randint(10**9, 2 * 10**9))
    parsed = make_url(url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    await proxy.start()
    proxied = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    redis = PrivateRedis(tmp)
    await redis.start()
    standin = TelegramStandIn()
    await standin.start()
    fleet = Fleet(standin, uows, proxy, redis, owner)
    for index in range(2):
        port = free_port()
        env = bot_env(
            standin,
            proxied,
            REDIS_URL=redis.url,
            WEBHOOK_URL="https://fleet.example.com/telegram/webhook",
            WEBHOOK_SECRET=SECRET,
            HTTP_PORT=str(port),
            MAX_CONCURRENT_UPDATES=str(BOUND),
            INBOX_LEASE_SECONDS=str(LEASE),
            FLOOD_PER_SECOND="1000",
            SHUTDOWN_GRACE_SECONDS="2",
        )
        fleet.processes.append(BotProcess(env, tmp / f"bot{index}.log").start())
        fleet.ports.append(port)
    async with aiohttp.ClientSession() as http:
        fleet.http = http
        try:
            for port in fleet.ports:
                await fleet.readiness(port, 200)
            yield fleet
        finally:
            codes = [await p.stop() for p in fleet.processes if p.popen.poll() is None]
            await standin.stop()
            await redis.stop()
            await proxy.stop()
            await engine.dispose()
            await pg_databases.drop(url)
    assert all(code == 0 for code in codes), fleet.logs()


async def member(fleet: Fleet) -> int:
    telegram_id = random.randint(10**9, 2 * 10**9)
    await join(fleet.uows, fleet.owner, telegram_id)
    return telegram_id


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_taken(fleet):
    user = await member(fleet)
    updates = [fleet.message(user) for _ in range(2)]
    for port in fleet.ports:
        assert await fleet.post(port, updates[0], secret="wrong-secret-0123456789") == 401
        assert await fleet.post(port, updates[1], secret=None) == 401
    assert await fleet.statuses(updates) == {}
    # What was refused never runs: the same updates, rightly signed, each run once.
    for update in updates:
        await fleet.deliver(fleet.ports[0], update)
    await fleet.all_handled(updates)
    assert fleet.replies(user) == 2


async def test_the_same_update_to_both_processes_at_the_same_moment_is_handled_once(fleet):
    user = await member(fleet)
    updates = [fleet.message(user) for _ in range(10)]
    before = await fleet.redelivered()
    for update in updates:
        await asyncio.gather(*(fleet.deliver(port, update) for port in fleet.ports))
    await fleet.all_handled(updates)
    assert fleet.replies(user) == 10
    # Each update's second copy, on whichever process it reached, counted as a redelivery.
    assert await fleet.redelivered() - before == 10


async def test_past_the_bound_updates_get_503_and_every_update_taken_is_handled(fleet):
    user = await member(fleet)
    locks = Redis.from_url(fleet.redis.url)
    lock = locks.lock(fleet.lock_name(user), timeout=60)
    assert await lock.acquire()
    port = fleet.ports[0]
    updates = [fleet.message(user) for _ in range(3 * BOUND)]
    try:  # the member's updates wait on the lock: they stay in flight
        codes = await asyncio.gather(*(fleet.post(port, u) for u in updates))
    finally:
        await lock.release()
        await locks.aclose()
    taken = [u for u, code in zip(updates, codes, strict=True) if code == 200]
    refused = [u for u, code in zip(updates, codes, strict=True) if code == 503]
    assert len(taken) == BOUND and len(refused) == 2 * BOUND, codes
    assert set((await fleet.statuses(updates)).values()) <= {"pending", "handled"}
    assert len(await fleet.statuses(updates)) == BOUND  # the refused were not written
    await fleet.all_handled(taken)
    # Telegram redelivers the refused ones later (again while the other process is at its
    # bound: they wait on the member's lock there too): each is handled, once.
    again = 0
    for update in refused:
        again += await fleet.deliver(fleet.ports[1], update)
    await fleet.all_handled(updates)
    assert fleet.replies(user) == 3 * BOUND
    print(
        f"\nbound {BOUND}: {len(taken)} of {3 * BOUND} taken at once, {len(refused)} got 503;"
        f" redelivered: {again} more 503s; handled: {fleet.replies(user)}"
    )


async def test_with_redis_down_the_webhook_says_503_and_nothing_is_lost(fleet):
    user = await member(fleet)
    await fleet.redis.stop()
    try:
        for port in fleet.ports:
            await fleet.readiness(port, 503)
            _, body = await fleet.get(port, "/readyz")
            assert '"redis": "ok"' not in body
        updates = [fleet.message(user) for _ in range(4)]
        for index, update in enumerate(updates):
            assert await fleet.post(fleet.ports[index % 2], update) == 503
        assert await fleet.statuses(updates) == {}
    finally:
        await fleet.redis.start()
    for port in fleet.ports:
        await fleet.readiness(port, 200)
    for update in updates:  # Telegram's retries
        await fleet.deliver(fleet.ports[1], update)
    await fleet.all_handled(updates)
    assert fleet.replies(user) == 4


async def test_with_the_database_unreachable_metrics_answer_and_nothing_is_taken(fleet):
    user = await member(fleet)
    await fleet.proxy.cut()
    try:
        updates = [fleet.message(user) for _ in range(3)]
        for port in fleet.ports:
            await fleet.readiness(port, 503)
            _, body = await fleet.get(port, "/readyz")
            assert '"database": "ok"' not in body
            status, text = await fleet.get(port, "/metrics")
            assert status == 200 and "shopdesk_updates_total" in text
        for update in updates:
            assert await fleet.post(fleet.ports[0], update) == 503
    finally:
        await fleet.proxy.start()
    assert await fleet.statuses(updates) == {}
    for port in fleet.ports:
        await fleet.readiness(port, 200)
    for update in updates:
        await fleet.deliver(fleet.ports[0], update)
    await fleet.all_handled(updates)
    assert fleet.replies(user) == 3


async def test_a_process_killed_with_updates_in_flight_loses_none_and_runs_none_twice(fleet):
    """Last: it kills the first process for good."""
    user = await member(fleet)
    locks = Redis.from_url(fleet.redis.url)
    lock = locks.lock(fleet.lock_name(user), timeout=60)
    assert await lock.acquire()
    victim, survivor = fleet.processes[0], fleet.ports[1]
    updates = [fleet.message(user) for _ in range(BOUND - 1)]
    try:
        for update in updates:  # taken (200) by the victim, waiting on the member's lock
            assert await fleet.post(fleet.ports[0], update) == 200
        assert set((await fleet.statuses(updates)).values()) == {"pending"}
        await victim.kill()
    finally:
        await lock.release()
        await locks.aclose()
    assert fleet.replies(user) == 0
    # Telegram redelivers them to the other process (a 200 it never got, say).
    for update in updates:
        await fleet.deliver(survivor, update)
    await fleet.all_handled(updates)
    assert fleet.replies(user) == len(updates)
    # Nothing more comes: every update ran exactly once.
    async with fleet.uows() as uow:
        left = await uow.session.scalar(
            select(InboxUpdate.update_id).where(InboxUpdate.status == InboxStatus.PENDING)
        )
    assert left is None
    assert fleet.replies(user) == len(updates)
