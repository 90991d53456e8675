"""Two real bot processes in webhook mode on PostgreSQL and Redis, as a fleet would run.

The test plays Telegram and the load balancer: it posts updates round-robin to both
processes' webhook endpoints; replies go to the Bot API stand-in on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from core.clock import SystemClock
from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from core.orders.models import Order
from tests.support.factories import join, new_account
from tests.support.orders import add_order, many_managers
from tests.support.telegram_standin import TelegramStandIn

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("TEST_POSTGRES_URL")
REDIS = os.environ.get("TEST_REDIS_URL")
SECRET = "fleet-secret-0123456789"
pytestmark = pytest.mark.skipif(
    not (PG and REDIS),
    reason="TEST_POSTGRES_URL and TEST_REDIS_URL are needed for the fleet test (.ci/run sets them)",
)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def database(pg_databases):
    """A database of its own, so the processes see exactly what this test made."""
    url = await pg_databases.create()
    engine = create_engine(url, pool_size=5)
    yield url, UnitOfWorkFactory(session_factory(engine), SystemClock())
    await engine.dispose()
    await pg_databases.drop(url)


class Fleet:
    def __init__(self, standin: TelegramStandIn, database_url: str, tmp: Path) -> None:
        self.standin, self.database_url, self.tmp = standin, database_url, tmp
        self.ports: list[int] = []
        self.processes: list[subprocess.Popen] = []
        self.update_ids = iter(range(random.randint(10**8, 9 * 10**8), 10**9))
        self.turn = 0

    def start(self, count: int = 2) -> None:
        for index in range(count):
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
            env.update(
                BOT_TOKEN=self.standin.token,
                TELEGRAM_API_BASE=self.standin.base,
                DATABASE_URL=self.database_url,
                REDIS_URL=REDIS,
                WEBHOOK_URL="https://fleet.example.com/telegram/webhook",
                WEBHOOK_SECRET=SECRET,
                HTTP_PORT=str(port),
                LOG_LEVEL="INFO",
                OUTBOX_LEASE_SECONDS="5",
                # A renewal run skips (SKIP LOCKED) an account whose lock an alerts run holds
                # at that moment, in this process or the other (seen: both skipped one while
                # the alerts jobs, started with them, held it); the next run renews it: soon.
                RENEWALS_EVERY_MINUTES="0.05",
                ALERTS_EVERY_MINUTES="0.05",
            )
            log = (self.tmp / f"bot{index}.log").open("w")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            self.ports.append(port)

    async def wait_healthy(self, http: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + 90
        for port in self.ports:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as reply:
                        if reply.status == 200:
                            body = await reply.json()
                            assert body == {
                                "status": "ok",
                                "database": "ok",
                                "redis": "ok",
                                "telegram": "ok",  # webhook registered
                            }
                            break
                except aiohttp.ClientConnectionError:
                    pass
                assert time.monotonic() < deadline, self.logs()
                await asyncio.sleep(0.2)

    def message(self, user_id: int, text_: str) -> dict:
        user = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "language_code": "ru"}
        return {
            "update_id": next(self.update_ids),
            "message": {
                "message_id": random.randint(1, 10**6),
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": user,
                "text": text_,
            },
        }

    async def post(self, http: aiohttp.ClientSession, update: dict, port: int | None = None):
        if port is None:
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(
            f"http://127.0.0.1:{port}/telegram/webhook", json=update, headers=headers
        ) as reply:
            assert reply.status == 200

    async def replies_to(self, chat_id: int, count: int) -> list[str]:
        deadline = time.monotonic() + 30
        while True:
            texts = [
                c.params.get("text", "")
                for c in self.standin.calls_of("sendMessage")
                if int(c.params["chat_id"]) == chat_id
            ]
            if len(texts) >= count:
                return texts
            assert time.monotonic() < deadline, (chat_id, texts, self.logs())
            await asyncio.sleep(0.1)

    async def eventually(self, uows, query):
        deadline = time.monotonic() + 30
        while True:
            async with uows() as uow:
                found = (await uow.session.scalars(query)).first()
            if found is not None:
                return found
            assert time.monotonic() < deadline, self.logs()
            await asyncio.sleep(0.1)

    async def wait(self, process: subprocess.Popen, timeout: float = 60) -> int:
        """Waits off the event loop: the stand-in must keep answering the stopping process."""
        try:
            return await asyncio.to_thread(process.wait, timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGUSR1)  # the bot logs every asyncio task's stack
            await asyncio.sleep(1)
            process.kill()
            await asyncio.to_thread(process.wait)
            pytest.fail("a process did not stop on SIGTERM:\n" + self.logs())

    async def stop(self) -> list[int]:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        return [await self.wait(process) for process in self.processes]

    def logs_in_full(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp.glob("bot*.log")))

    def logs(self) -> str:
        return "\n".join(p.read_text()[-6000:] for p in sorted(self.tmp.glob("bot*.log")))


async def test_two_webhook_processes_share_dialogs_claims_and_never_duplicate(database, tmp_path):
    url, uows = database
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    racers = await many_managers(uows, owner.account_id, 20)
    order_id = await add_order(uows, owner.account_id, "R-1")
    standin = TelegramStandIn()
    await standin.start()
    fleet = Fleet(standin, url, tmp_path)
    fleet.start()
    try:
        async with aiohttp.ClientSession() as http:
            await fleet.wait_healthy(http)
            exporters = []
            for port in fleet.ports:  # the probes and the scrape of the real processes
                async with http.get(f"http://127.0.0.1:{port}/livez") as live:
                    assert live.status == 200
                async with http.get(f"http://127.0.0.1:{port}/metrics") as scrape:
                    assert scrape.status == 200
                    text = await scrape.text()
                assert "process_resident_memory_bytes" in text
                assert 'shopdesk_metrics_stale{gauge="outbox_pending"} 0.0' in text
                exporters.append("shopdesk_outbox_pending " in text)
                assert ("shopdesk_fleet_gauges_exporter 1.0" in text) == exporters[-1]
            assert exporters == [True, False]  # the fleet's queue comes from one process
            registered = standin.calls_of("setWebhook")
            assert len(registered) == 2
            assert all(c.params["secret_token"] == SECRET for c in registered)
            assert not standin.calls_of("getUpdates")

            # A dialog whose steps alternate between the processes (FSM state in Redis).
            steps = ["/neworder", "F-1", "Анна Смирнова", "+7 900 000-00-01", "1500", "Домофон"]
            seen = 0
            for step in steps:
                await fleet.post(http, fleet.message(admin.telegram_id, step))
                seen = len(await fleet.replies_to(admin.telegram_id, seen + 1))
            made = await fleet.eventually(uows, select(Order).where(Order.number == "F-1"))
            assert (made.customer_name, made.total) == ("Анна Смирнова", 1500_00)

            # Twenty managers claim one order at once, split across both processes.
            claims = [fleet.message(r.telegram_id, "/claim R-1") for r in racers]
            await asyncio.gather(*(fleet.post(http, update) for update in claims))
            for racer in racers:
                await fleet.replies_to(racer.telegram_id, 1)
            # Telegram redelivers one of them to the other process: it runs nowhere again.
            await fleet.post(http, claims[0], port=fleet.ports[1])
            await fleet.post(http, claims[0], port=fleet.ports[0])
        async with uows() as uow:
            order = await uow.session.get(Order, order_id)
        winners = [r for r in racers if r.member_id == order.assignee_id]
        assert len(winners) == 1
        told = [
            c
            for c in standin.calls_of("sendMessage")
            if int(c.params["chat_id"]) in {r.telegram_id for r in racers}
        ]
        assert len(told) == 20
    finally:
        codes = await fleet.stop()
        await standin.stop()
    assert codes == [0, 0], fleet.logs()
    logs = fleet.logs_in_full()
    assert SECRET not in logs and standin.token not in logs, "a secret leaked into the logs"
    assert 'Running job "renewals (trigger' in logs  # each job under its own name
    assert "<locals>" not in logs


async def test_both_schedulers_renew_once_and_a_stopped_process_loses_nothing(database, tmp_path):

    from sqlalchemy import func

    from core.journal.models import ConnectedService
    from core.ledger.models import LedgerEntry
    from core.notifications.models import OutboxMessage, OutboxStatus
    from tests.support.journal import shops_due_today

    url, uows = database
    due = await shops_due_today(uows, 24, 1)
    can_pay, owners, ended = due.can_pay, due.owners, due.ended

    standin = TelegramStandIn()
    await standin.start()
    fleet = Fleet(standin, url, tmp_path)
    fleet.start()
    try:
        async with aiohttp.ClientSession() as http:
            await fleet.wait_healthy(http)
            # Stop one process while both schedulers run the renewal batch, then bring it back.
            fleet.processes[1].send_signal(signal.SIGTERM)
            assert await fleet.wait(fleet.processes[1]) == 0, fleet.logs()
            fleet.processes.pop(1)
            fleet.ports.pop(1)
            fleet.start(1)
            await fleet.wait_healthy(http)

            deadline = time.monotonic() + 90
            while True:
                async with uows() as uow:
                    services = list(await uow.session.scalars(select(ConnectedService)))
                    pending = await uow.session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status == OutboxStatus.PENDING)
                    )
                settled = all(s.ends_on != ended for s in services if can_pay[s.id]) and all(
                    s.status == "suspended" for s in services if not can_pay[s.id]
                )
                if settled and pending == 0:
                    break
                assert time.monotonic() < deadline, (pending, fleet.logs())
                await asyncio.sleep(0.3)
        async with uows() as uow:
            charges = list(
                await uow.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "charge"))
            )
            sent = list(
                await uow.session.scalars(
                    select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)
                )
            )
        # One order charge per shop, one renewal charge per shop that could pay.
        assert len(charges) == 24 + sum(can_pay.values())
        renewed = [s for s in services if can_pay[s.id]]
        assert all(s.ends_on > ended and s.status == "active" for s in renewed)
        # Every notice reached its owner exactly once.
        delivered = [
            (int(c.params["chat_id"]), c.params["text"])
            for c in standin.calls_of("sendMessage")
            if int(c.params["chat_id"]) in owners
        ]
        assert len(delivered) == len(sent) and len(set(delivered)) == len(delivered)
        suspended_owners = {m.chat_id for m in sent if m.kind == "service.suspended"}
        assert len(suspended_owners) == 24 - sum(can_pay.values())
    finally:
        codes = await fleet.stop()
        await standin.stop()
    assert codes == [0, 0], fleet.logs()
