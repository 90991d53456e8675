"""ShopDesk benchmarks: each figure is a ratio against an anchor measured in the same run.

    make bench            # full sizes (see SIZES), SQLite; PostgreSQL too if TEST_POSTGRES_URL
    make bench QUICK=1    # small sizes, correctness only (CI)
    .venv/bin/python -m bench --orders-large 300000   # override a size

Run it as `python -m bench` (bench/__main__.py): aiogram's models are then built on first use,
as in the bot's own process.

Prints a table and writes bench/results.json. Exits non-zero on wrong results (duplicate or
missing claim winners, lost or duplicated notifications, failed updates), never on speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import platform
import random
import resource
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import SendPhoto
from aiogram.types import Message
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.console.chat import ChatClient, OfflineSession
from bot.i18n import build_i18n
from bot.notifications.sender import OutboxSender
from bot.telegram import OFFLINE_TOKEN
from core.accounts.hours import working_seconds
from core.accounts.models import Account
from core.clock import FrozenClock, SystemClock
from core.db.engine import create_engine, session_factory
from core.db.migrate import upgrade
from core.db.uow import UnitOfWorkFactory
from core.digest.job import send_digests
from core.intake.tokens import issue_token_for_account
from core.journal import billing
from core.journal.calendar import local_today
from core.journal.models import ConnectedService, ServiceStatus
from core.journal.renewals import run_renewals
from core.ledger.models import Balance, LedgerEntry
from core.members.models import Member, Role
from core.notifications import outbox
from core.notifications.limits import Limits, RateLimiter
from core.notifications.models import OutboxMessage
from core.orders.models import Order, OrderStatus
from core.orders.service import (
    OrderTab,
    claim_order,
    completion_seconds,
    intake_order,
    list_orders,
)
from core.settings import Settings
from core.tasks.models import Task
from shopdesk.app import build_app
from shopdesk.heap import freeze_startup
from tests.support.botprocess import bot_env
from tests.support.factories import new_account
from tests.support.fleetload import intake_load, webhook_load
from tests.support.fleetsend import send_across_processes
from tests.support.orders import many_managers, new_order
from tests.support.telegram_standin import TelegramStandIn
from tests.support.webapp import sign_init_data, webapp_settings
from web.server import build_web_app

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
CHUNK = 5000
DISPATCH_ROUNDS = 25
SERVICES_PER_ACCOUNT = 10  # dispatch: full and anchor alternate, dispatch_updates / 25 each

FULL = {
    "dispatch_orders": 100_000,
    "dispatch_updates": 5_000,
    "orders_small": 10_000,
    "orders_large": 1_000_000,
    "claim_orders": 200,
    "claimers": 20,
    "auto_orders": 1_000,
    "auto_managers": 20,
    "services_small": 10_000,
    "services_large": 100_000,
    "accounts_small": 1_000,  # the sweep's second shape: accounts of SERVICES_PER_ACCOUNT each
    "accounts_large": 10_000,
    "report_orders": 100_000,
    "notifications": 3_000,
    "chats": 1_000,
    "fleet_notifications": 3_000,
    "fleet_limit": 200,  # SEND_PER_SECOND for the two processes together
    "webhook_updates": 2_000,  # /orders posted to the webhook, for one and for two processes
    "webhook_users": 20,  # members posting, one update in flight each
    "intake_orders": 1_000,
    "digest_members": 10_000,
    "repeat": 10,
}
QUICK = {
    "dispatch_orders": 5_000,
    "dispatch_updates": 300,
    "orders_small": 1_000,
    "orders_large": 10_000,
    "claim_orders": 30,
    "claimers": 20,
    "auto_orders": 60,  # cap 3 each: the cap still binds and the spread is still checked
    "auto_managers": 20,
    "services_small": 100,
    "services_large": 300,
    "accounts_small": 4,
    "accounts_large": 12,
    "report_orders": 5_000,
    "notifications": 300,
    "chats": 100,
    "fleet_notifications": 300,
    "fleet_limit": 200,
    "webhook_updates": 60,
    "webhook_users": 6,
    "intake_orders": 60,
    "digest_members": 500,
    "repeat": 3,
}
TARGETS = {
    "dispatch": "≤ 1.5×",
    "board first load": "≤ 1×",
    "list scaling, first page": "≤ 1.5×",
    "list scaling, page 50": "≤ 1.5×",
    "claim": "1 winner per order, 0 errors",
    "auto-assignment": "≤ 2×; none above the cap, spread within 1 of even",
    "renewal sweep": "≤ 10×",
    "renewal per-service growth": "≤ 1.3×",
    "renewal per-service growth, many accounts": "≤ 1.3×",
    "report": "≤ 3×",
    "sender throughput": "≥ 0.9",
    "sender 429 share": "≤ 1 %",
    "sender across two processes sharing one limit (Redis)": "≥ 0.9, 0 lost, 0 duplicates",
    "sender across two processes, 429 share": "≤ 1 %",
    "webhook throughput, two processes / one": "—",
    "intake throughput": "≤ 5×",
    "digest job": "≤ 10×",
    "idle RSS": "≤ 120 MB",
    "peak RSS": "≤ 250 MB",
}


@dataclass
class Figure:
    name: str
    value: float
    unit: str  # "x" (ratio), "MB", "share", "/s"
    detail: str
    ok: bool | None = None  # None: no target to judge


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(f"  {figure.name}: {fmt(figure)}  ({figure.detail})", flush=True)

    def fail(self, message: str) -> None:
        self.failures.append(message)
        print(f"  WRONG: {message}", flush=True)


def fmt(f: Figure) -> str:
    if f.unit == "x":
        return f"{f.value:.2f}×"
    if f.unit == "share":
        return f"{f.value * 100:.2f} %"
    if f.unit == "MB":
        return f"{f.value:.0f} MB"
    return f"{f.value:.0f}{f.unit}"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of another process: its resident and peak resident memory."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


async def idle_bot_process(folder: str) -> tuple[float, float]:
    """Starts the real `python -m bot run` (SQLite, long polling) against the stand-in on
    127.0.0.1, lets it settle after start (schema checked, commands set, polling), reads its
    memory, and stops it with SIGTERM. The database is at head already, as at every restart of
    a deployment (only the first start after an upgrade runs Alembic)."""
    url = f"sqlite+aiosqlite:///{folder}/idle-process.db"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    standin = TelegramStandIn()
    await standin.start()
    env = bot_env(standin, url, LOG_LEVEL="WARNING")
    env.pop("REDIS_URL", None)  # the embedded default: memory storage in this process
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=ROOT
    )
    try:
        await standin.wait_for("getUpdates", 2, timeout=60)
        await asyncio.sleep(1.0)
        return process_rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()
        await standin.stop()


# ---- databases -------------------------------------------------------------------------------


class Databases:
    """Fresh migrated databases: SQLite files in a temporary folder, PostgreSQL databases."""

    def __init__(self, folder: str, postgres_url: str | None) -> None:
        self.folder = folder
        self.postgres_url = postgres_url
        self.created_pg: list[str] = []

    @contextlib.asynccontextmanager
    async def fresh(self, kind: str, name: str, pool_size: int = 5) -> AsyncIterator[AsyncEngine]:
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{self.folder}/{name}-{uuid.uuid4().hex[:6]}.db"
            engine = create_engine(url)
            await upgrade(engine)
            try:
                yield engine
            finally:
                await engine.dispose()
            return
        database = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(self.postgres_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{database}"'))
        url = make_url(self.postgres_url).set(database=database)
        engine = create_engine(url.render_as_string(hide_password=False), pool_size=pool_size)
        try:
            await upgrade(engine)
            yield engine
        finally:
            await engine.dispose()
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            await admin.dispose()

    def kinds(self) -> list[str]:
        return ["sqlite", "postgresql"] if self.postgres_url else ["sqlite"]


def uows_of(engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory(engine), FrozenClock(T0))


def order_rows(account: Account, members: list[int], count: int, seed: int) -> Iterator[list[dict]]:
    """Orders over the last 120 days in chunks (never all in memory): most completed. Each is
    assigned, so each was taken into work 3–39 minutes after it came in (not drawn from rng: the
    other columns stay as they were), its wait in working time stored as claim_order stores it."""
    rng = random.Random(seed)
    statuses = [OrderStatus.COMPLETED] * 6 + [OrderStatus.CANCELLED, OrderStatus.IN_PROGRESS]
    chunk: list[dict] = []
    for i in range(count):
        created = T0 - timedelta(seconds=rng.randrange(60, 3600 * 24 * 120))
        claimed = created + timedelta(minutes=3 + i * 7 % 37)
        status = rng.choice(statuses)
        completed = status == OrderStatus.COMPLETED
        chunk.append(
            {
                "account_id": account.id,
                "number": f"B{i}",
                "source": "api",
                "customer_name": "Bench",
                "items": [],
                "total": rng.randrange(10_000, 5_000_000),
                "currency": "RUB",
                "status": status,
                "assignee_id": rng.choice(members),
                "created_at": created,
                "updated_at": created,
                "claimed_at": claimed,
                "claim_wait_seconds": working_seconds(account, created, claimed),
                "completed_at": created + timedelta(hours=5) if completed else None,
                "completion_seconds": completion_seconds(claimed, created + timedelta(hours=5))
                if completed
                else None,
            }
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def fill_orders(engine: AsyncEngine, account_id: int, members: list[int], count: int) -> None:
    async with AsyncSession(engine) as session:
        account = await session.get(Account, account_id)
    async with engine.begin() as conn:
        for chunk in order_rows(account, members, count, seed=count):
            await conn.execute(insert(Order), chunk)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE orders"))
            await conn.commit()


async def shop(engine: AsyncEngine, managers: int = 10):
    uows = uows_of(engine)
    owner = await new_account(uows, name="Bench")
    crew = await many_managers(uows, owner.account_id, managers)
    return uows, owner, crew


async def timed(make, repeat: int) -> float:
    """Median seconds of `repeat` runs of the coroutine `make()` (after one warm-up)."""
    await make()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await make()
        times.append(time.perf_counter() - began)
    times.sort()
    return times[len(times) // 2]


# ---- figures ---------------------------------------------------------------------------------


def settings_for(engine: AsyncEngine) -> Settings:
    return Settings(
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        bot_token=None,
    )


async def feed_many(dp: Dispatcher, bot: Bot, client: ChatClient, text_: str, count: int) -> float:
    session: OfflineSession = bot.session  # type: ignore[assignment]
    began = time.perf_counter()
    for i in range(count):
        await dp.feed_update(bot, client.message_update(text_))
        if i % 100 == 99:
            session.requests.clear()
            session.screens.clear()
    return (time.perf_counter() - began) / count


async def bench_dispatch(report: Report, dbs: Databases, sizes: dict) -> None:
    async with dbs.fresh("sqlite", "dispatch") as engine:
        _, owner, crew = await shop(engine)
        await fill_orders(
            engine, owner.account_id, [m.member_id for m in crew], sizes["dispatch_orders"]
        )
        app = build_app(
            settings_for(engine), session=OfflineSession(), clock=FrozenClock(T0), engine=engine
        )
        app.flood_memory.per_second = 1_000_000
        manager = crew[0]
        client = ChatClient(app.dp, app.bot, manager.telegram_id)
        reply = await client.send("/orders")
        buttons = [
            b.text
            for r in reply.requests
            if getattr(r, "reply_markup", None) is not None
            for row in getattr(r.reply_markup, "inline_keyboard", [])
            for b in row
        ]
        if not any("B" in t for t in buttons):
            report.fail(f"/orders showed no orders: {buttons[:3]}")
        await feed_many(app.dp, app.bot, client, "/orders", 50)

        bare_session = OfflineSession()
        bare_bot = Bot(OFFLINE_TOKEN, session=bare_session)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        router = Router()

        @router.message()
        async def on_message(message: Message) -> None:
            async with maker() as session:
                member = await session.get(Member, manager.member_id)
            await message.answer(f"hi {member.username}")

        bare = Dispatcher()
        bare.include_router(router)
        bare_client = ChatClient(bare, bare_bot, manager.telegram_id)
        await feed_many(bare, bare_bot, bare_client, "/orders", 50)

        # Alternating rounds, so that a change of the machine's load during the run weighs on
        # both sides alike (one block of each in turn measured the load's drift as often as
        # the code): the figure is the median of the rounds' ratios.
        n = sizes["dispatch_updates"]
        rounds = max(1, min(DISPATCH_ROUNDS, n // 100))
        per = n // rounds
        fulls, anchors, ratios = [], [], []
        for _ in range(rounds):
            fulls.append(await feed_many(app.dp, app.bot, client, "/orders", per))
            anchors.append(await feed_many(bare, bare_bot, bare_client, "/orders", per))
            ratios.append(fulls[-1] / anchors[-1])
        ratio = statistics.median(ratios)
        full, anchor = statistics.median(fulls), statistics.median(anchors)
        report.add(
            Figure(
                "dispatch",
                ratio,
                "x",
                f"/orders {full * 1000:.2f} ms vs bare {anchor * 1000:.2f} ms per update, "
                f"median of {rounds} alternating rounds of {per} updates (rounds "
                f"{min(ratios):.2f}–{max(ratios):.2f}×), {sizes['dispatch_orders']:,} orders",
                ratio <= 1.5,
            )
        )
        report.memory_app = rss_mb()  # type: ignore[attr-defined]
        orders = lambda count: feed_many(app.dp, app.bot, client, "/orders", count)  # noqa: E731
        board, dispatch, ratios = await board_first_load(engine, manager, orders, rounds)
        ratio = statistics.median(ratios)
        report.add(
            Figure(
                "board first load",
                ratio,
                "x",
                f"GET /app/api/board (team, 50 per column, initData checked) "
                f"{board * 1000:.2f} ms vs /orders {dispatch * 1000:.2f} ms per update, median of "
                f"{len(ratios)} alternating rounds (rounds {min(ratios):.2f}–{max(ratios):.2f}×), "
                f"same {sizes['dispatch_orders']:,} orders",
                ratio <= 1.0,
            )
        )


async def board_first_load(
    engine: AsyncEngine, manager, orders, rounds: int
) -> tuple[float, float, list[float]]:
    """The Mini App's board call over HTTP on 127.0.0.1, as the page makes it on opening
    (signed initData checked, the member resolved, three columns and their counts), timed in
    rounds alternating with /orders updates through the dispatcher (`orders(n)`: seconds per
    update), so the machine's load weighs on both alike. Returns the medians and the ratios."""
    from aiohttp.test_utils import TestClient, TestServer

    app = build_app(
        webapp_settings(engine.url.render_as_string(hide_password=False)),
        session=OfflineSession(),
        clock=FrozenClock(T0),
        engine=engine,
    )
    client = TestClient(TestServer(build_web_app(app.web)))
    await client.start_server()
    headers = {"Authorization": "tma " + sign_init_data(manager.telegram_id, T0)}

    async def load() -> bytes:
        response = await client.get("/app/api/board?scope=team", headers=headers)
        if response.status != 200:
            raise RuntimeError(f"board answered {response.status}: {await response.text()}")
        return await response.read()

    try:
        # What the board shows is checked on the first load; the timed ones read the answer
        # (decoding its JSON is the page's work, as drawing a message is Telegram's for /orders).
        columns = json.loads(await load())["columns"]
        if sum(len(c["rows"]) for c in columns) < 50:
            raise RuntimeError(f"the board showed {[len(c['rows']) for c in columns]} rows")
        boards, dispatches, ratios = [], [], []
        per = 20
        for _ in range(rounds):
            began = time.perf_counter()
            for _ in range(per):
                await load()
            boards.append((time.perf_counter() - began) / per)
            dispatches.append(await orders(per))
            ratios.append(boards[-1] / dispatches[-1])
        return statistics.median(boards), statistics.median(dispatches), ratios
    finally:
        await client.close()


async def list_times(engine: AsyncEngine, count: int) -> tuple[float, float]:
    uows, owner, crew = await shop(engine)
    await fill_orders(engine, owner.account_id, [m.member_id for m in crew], count)
    cursor = None
    async with uows() as uow:
        for _ in range(49):
            page = await list_orders(uow, owner, OrderTab.ALL, after=cursor)
            cursor = page.older
    assert cursor is not None

    async def first() -> None:
        async with uows() as uow:
            page = await list_orders(uow, owner, OrderTab.ALL)
            assert len(page.rows) == 10

    async def fiftieth() -> None:
        async with uows() as uow:
            page = await list_orders(uow, owner, OrderTab.ALL, after=cursor)
            assert len(page.rows) == 10

    return await timed(first, 100), await timed(fiftieth, 100)


async def bench_lists(report: Report, dbs: Databases, sizes: dict, kind: str) -> None:
    small, large = sizes["orders_small"], sizes["orders_large"]
    async with dbs.fresh(kind, "lists-small") as engine:
        s_first, s_50 = await list_times(engine, small)
    async with dbs.fresh(kind, "lists-large") as engine:
        l_first, l_50 = await list_times(engine, large)
    for label, big, little in (("first page", l_first, s_first), ("page 50", l_50, s_50)):
        report.add(
            Figure(
                f"list scaling, {label} [{kind}]",
                big / little,
                "x",
                f"{big * 1000:.2f} ms at {large:,} vs {little * 1000:.2f} ms at {small:,} orders",
                big / little <= 1.5,
            )
        )


async def bench_claim(report: Report, dbs: Databases, sizes: dict, kind: str) -> None:
    count, claimers = sizes["claim_orders"], sizes["claimers"]
    async with dbs.fresh(kind, "claim", pool_size=claimers) as engine:
        uows, owner, crew = await shop(engine, claimers)
        async with engine.begin() as conn:
            rows = [
                {
                    "account_id": owner.account_id,
                    "number": f"C{i}",
                    "source": "api",
                    "customer_name": "Race",
                    "items": [],
                    "total": 100,
                    "currency": "RUB",
                    "status": OrderStatus.NEW,
                    "created_at": T0,
                    "updated_at": T0,
                }
                for i in range(count)
            ]
            await conn.execute(insert(Order), rows)
        async with engine.connect() as conn:
            ids = list(await conn.scalars(select(Order.id).where(Order.number.like("C%"))))
        wins: list[tuple[int, int]] = []
        errors: list[str] = []

        async def claimer(actor, seed: int) -> None:
            order = ids[:]
            random.Random(seed).shuffle(order)
            for order_id in order:
                try:
                    async with uows() as uow:
                        outcome = await claim_order(uow, actor, order_id)
                except Exception as exc:  # counted and reported
                    errors.append(repr(exc))
                    continue
                if outcome.won:
                    wins.append((order_id, actor.member_id))

        began = time.perf_counter()
        await asyncio.gather(*(claimer(a, i) for i, a in enumerate(crew)))
        took = time.perf_counter() - began
        async with engine.connect() as conn:
            assigned = await conn.scalar(
                select(func.count()).where(Order.number.like("C%"), Order.assignee_id.is_not(None))
            )
        ok = len(wins) == count and len({w[0] for w in wins}) == count and not errors
        ok = ok and assigned == count
        if not ok:
            report.fail(
                f"claim [{kind}]: {len(wins)} winners for {count} orders, {assigned} assigned, "
                f"{len(errors)} errors {errors[:2]}"
            )
        report.add(
            Figure(
                f"claim [{kind}]",
                count * claimers / took,
                " attempts/s",
                f"{count / took:.0f} wins/s, {len(wins)} winners of {count} orders, "
                f"{len(errors)} errors, "
                f"{claimers} claimers, {count * claimers} attempts in {took:.2f} s",
                ok,
            )
        )


async def _arrivals(
    uows: UnitOfWorkFactory, account_id: int, count: int, tag: str, at_once: int
) -> float:
    """`count` orders arriving at once through the intake (each a customer of its own), as
    many in flight as the pool has connections (a server's workers would queue the rest)."""
    gate = asyncio.Semaphore(at_once)

    async def arrive(n: int) -> None:
        cmd = new_order(f"{tag}{n}", external_id=f"{tag}-{n}", customer_phone=f"+7902{n:07}")
        async with gate, uows() as uow:
            await intake_order(uow, account_id, cmd)

    began = time.perf_counter()
    await asyncio.gather(*(arrive(n) for n in range(count)))
    return time.perf_counter() - began


async def bench_auto_assign(report: Report, dbs: Databases, sizes: dict, kind: str) -> None:
    """Orders arriving at once, given to managers on shift (distribution auto), against the
    same arrivals announced and each taken by a plain claim: time per order."""
    count, managers = sizes["auto_orders"], sizes["auto_managers"]
    cap = -(-count // managers)  # just room for all: the cap binds, the spread must be even
    async with dbs.fresh(kind, "auto", pool_size=managers) as engine:
        uows, owner, crew = await shop(engine, managers)
        async with uows() as uow:
            await uow.session.execute(update(Account).values(distribution="auto", open_cap=cap))
            await uow.session.execute(
                update(Member)
                .where(Member.id.in_([a.member_id for a in crew]))
                .values(on_shift=True)
            )
            await uow.commit()
        auto = await _arrivals(uows, owner.account_id, count, "A", managers)
        async with engine.connect() as conn:
            load = dict(
                (
                    await conn.execute(
                        select(Order.assignee_id, func.count())
                        .where(Order.number.like("A%"))
                        .group_by(Order.assignee_id)
                    )
                ).all()
            )
    async with dbs.fresh(kind, "plainclaim", pool_size=managers) as engine:
        uows, owner, crew = await shop(engine, managers)
        plain = await _arrivals(uows, owner.account_id, count, "P", managers)
        async with engine.connect() as conn:
            ids = list(await conn.scalars(select(Order.id).order_by(Order.id)))

        async def claimer(i: int, actor) -> None:
            for order_id in ids[i::managers]:
                async with uows() as uow:
                    await claim_order(uow, actor, order_id)

        began = time.perf_counter()
        await asyncio.gather(*(claimer(i, a) for i, a in enumerate(crew)))
        plain += time.perf_counter() - began
    even = count / managers
    spread_ok = None not in load and all(abs(n - even) <= 1 for n in load.values())
    ok = spread_ok and len(load) == managers and max(load.values()) <= cap
    if not ok:
        report.fail(f"auto-assignment [{kind}]: cap {cap}, load {sorted(load.values())}")
    report.add(
        Figure(
            f"auto-assignment [{kind}]",
            auto / plain,
            "x",
            f"{auto / count * 1000:.2f} ms per order auto-assigned vs {plain / count * 1000:.2f} "
            f"ms arriving + claimed; {count} orders at once, {managers} managers, cap {cap}, "
            f"{min(load.values(), default=0)}–{max(load.values(), default=0)} each",
            ok and auto / plain <= 2,
        )
    )


async def sweep(engine: AsyncEngine, count: int) -> tuple[float, float, int]:
    uows, owner, _ = await shop(engine, 1)
    async with uows() as uow:
        await billing.top_up(uow, owner, count * 1_000 + 1_000_000, "BENCH-FUND")
    async with uows() as uow:
        account = await uow.session.get(Account, owner.account_id)
        today = local_today(T0, account.timezone)
    async with engine.begin() as conn:
        for start in range(0, count, CHUNK):
            await conn.execute(
                insert(ConnectedService),
                [service_row(owner.account_id, today) for _ in range(min(CHUNK, count - start))],
            )
    await settle(engine)
    # The anchor: one raw UPDATE writing the same rows' end dates (to the same value).
    began = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(
            update(ConnectedService)
            .where(ConnectedService.account_id == owner.account_id)
            .values(ends_on=today)
        )
    anchor = time.perf_counter() - began
    began = time.perf_counter()
    done = await run_renewals(uows)
    took = time.perf_counter() - began
    async with engine.connect() as conn:
        charged = await conn.scalar(
            select(func.count()).where(
                LedgerEntry.account_id == owner.account_id, LedgerEntry.reason == "service.renewal"
            )
        )
    return took, anchor, min(done, charged)


async def sweep_accounts(engine: AsyncEngine, accounts: int) -> tuple[float, int]:
    """The sweep's second shape: `accounts` accounts with SERVICES_PER_ACCOUNT services each, all
    due at once (one transaction per account). The accounts are copies of one made by the
    service (same settings, a balance that covers their renewals) without members of their own,
    so their notices have no recipients; the template account keeps its owner."""
    uows, owner, _ = await shop(engine, 0)
    async with uows() as uow:
        await billing.top_up(uow, owner, 1_000_000, "BENCH-FUND")
    async with engine.connect() as conn:
        template = dict(
            (await conn.execute(select(Account).where(Account.id == owner.account_id)))
            .mappings()
            .one()
        )
        balance = await conn.scalar(
            select(Balance.amount).where(Balance.account_id == owner.account_id)
        )
    template.pop("id")
    today = local_today(T0, template["timezone"])
    async with engine.begin() as conn:
        for start in range(1, accounts, CHUNK):
            count = min(CHUNK, accounts - start)
            await conn.execute(
                insert(Account), [{**template, "name": f"Bench {start + i}"} for i in range(count)]
            )
        ids = list(await conn.scalars(select(Account.id).where(Account.name.like("Bench%"))))
        rest = [i for i in ids if i != owner.account_id]
        for start in range(0, len(rest), CHUNK):
            await conn.execute(
                insert(Balance),
                [
                    {"account_id": i, "amount": balance, "updated_at": T0}
                    for i in rest[start : start + CHUNK]
                ],
            )
        rows = (
            service_row(account_id, today)
            for account_id in ids
            for _ in range(SERVICES_PER_ACCOUNT)
        )
        while chunk := list(itertools.islice(rows, CHUNK)):
            await conn.execute(insert(ConnectedService), chunk)
    await settle(engine)
    began = time.perf_counter()
    done = await run_renewals(uows)
    took = time.perf_counter() - began
    async with engine.connect() as conn:
        charged = await conn.scalar(
            select(func.count()).where(LedgerEntry.reason == "service.renewal")
        )
    return took, min(done, charged)


async def settle(engine: AsyncEngine) -> None:
    """PostgreSQL: VACUUM ANALYZE after the bulk load, as a database filled over months has its
    statistics and its rows vacuumed. Otherwise autovacuum analyzes (and, for inserted rows,
    vacuums) the new rows while the step is timed, which costs more the larger the load (on
    2 cores it took a share of the sweep's 100,000 run); and the first statement to read the
    freshly loaded rows sets their hint bits, a write that rows written days before the 09:00
    digest no longer need."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
        await conn.execute(text("CHECKPOINT"))


def service_row(account_id: int, today: date) -> dict:
    return {
        "account_id": account_id,
        "catalog_code": "chat_widget",
        "channel": "bench",
        "status": ServiceStatus.ACTIVE,
        "price": 1_000,
        "period_months": 1,
        "setup_needed": False,
        "auto_renew": True,
        "started_on": date(today.year, today.month, 1) - timedelta(days=30),
        "ends_on": today,
        "anchor_day": today.day,
        "version": 1,
        "ordered_at": T0 - timedelta(days=40),
    }


async def bench_renewals(report: Report, dbs: Databases, sizes: dict, kind: str) -> None:
    per = {}
    for size in (sizes["services_small"], sizes["services_large"]):
        async with dbs.fresh(kind, f"renew{size}") as engine:
            took, anchor, renewed = await sweep(engine, size)
        if renewed != size:
            report.fail(f"renewal [{kind}]: {renewed} of {size} services renewed")
        per[size] = took / size
        last = (took, anchor, size)
    took, anchor, size = last
    report.add(
        Figure(
            f"renewal sweep [{kind}]",
            took / anchor,
            "x",
            f"{size:,} services in {took:.2f} s vs raw UPDATE {anchor * 1000:.0f} ms",
            took / anchor <= 10,
        )
    )
    small, large = sizes["services_small"], sizes["services_large"]
    growth = per[large] / per[small]
    report.add(
        Figure(
            f"renewal per-service growth [{kind}]",
            growth,
            "x",
            f"{per[large] * 1e6:.0f} µs/service at {large:,} "
            f"vs {per[small] * 1e6:.0f} at {small:,}",
            growth <= 1.3,
        )
    )
    per = {}
    for accounts in (sizes["accounts_small"], sizes["accounts_large"]):
        async with dbs.fresh(kind, f"renew{accounts}a") as engine:
            took, renewed = await sweep_accounts(engine, accounts)
        services = accounts * SERVICES_PER_ACCOUNT
        if renewed != services:
            report.fail(f"renewal [{kind}]: {renewed} of {services} services renewed")
        per[accounts] = took / services
    small, large = sizes["accounts_small"], sizes["accounts_large"]
    growth = per[large] / per[small]
    report.add(
        Figure(
            f"renewal per-service growth, many accounts [{kind}]",
            growth,
            "x",
            f"{per[large] * 1e6:.0f} µs/service at {large:,} accounts × {SERVICES_PER_ACCOUNT} "
            f"vs {per[small] * 1e6:.0f} at {small:,} × {SERVICES_PER_ACCOUNT}",
            growth <= 1.3,
        )
    )


DIGEST_SHOPS = 10
# The job is timed as the anchor is, by a median: of runs from the same state (every member
# owed, no digest written). The first run also compiles the job's statements, once a process.
DIGEST_RUNS = 3
DIGEST_MONDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 09:00 in Moscow


async def digest_shops(engine: AsyncEngine, members: int) -> list[int]:
    """DIGEST_SHOPS accounts sharing `members` members (managers inserted directly); each
    member has two open orders, one completed yesterday and an overdue task: every digest has
    something to say. Returns the account ids."""
    uows = uows_of(engine)
    per_shop = members // DIGEST_SHOPS
    accounts = []
    for n in range(DIGEST_SHOPS):
        owner = await new_account(uows, owner_tg=900_000 + n, name=f"Digest {n}")
        accounts.append(owner.account_id)
        async with engine.begin() as conn:
            role = await conn.scalar(
                select(Role.id).where(Role.account_id == owner.account_id, Role.code == "manager")
            )
            await conn.execute(
                insert(Member),
                [
                    {
                        "account_id": owner.account_id,
                        "telegram_id": 1_000_000 + n * per_shop + i,
                        "full_name": f"Reader {i}",
                        "role_id": role,
                        "status": "active",
                        "joined_at": T0,
                    }
                    for i in range(per_shop - 1)  # and the owner
                ],
            )
            ids = list(
                await conn.scalars(select(Member.id).where(Member.account_id == owner.account_id))
            )
            yesterday = DIGEST_MONDAY - timedelta(hours=20)
            orders = [
                {
                    "account_id": owner.account_id,
                    "number": f"D{m}-{k}",
                    "source": "api",
                    "customer_name": "Bench",
                    "items": [],
                    "total": 150_000,
                    "currency": "RUB",
                    "status": OrderStatus.COMPLETED if k == 0 else OrderStatus.IN_PROGRESS,
                    "assignee_id": m,
                    "created_at": T0 - timedelta(days=k + 1),
                    "updated_at": yesterday,
                    "claimed_at": yesterday,
                    "completed_at": yesterday if k == 0 else None,
                }
                for m in ids
                for k in range(3)
            ]
            for at in range(0, len(orders), CHUNK):
                await conn.execute(insert(Order), orders[at : at + CHUNK])
            first = {
                r.assignee_id: r.id
                for r in await conn.execute(
                    select(Order.assignee_id, func.min(Order.id).label("id"))
                    .where(Order.account_id == owner.account_id)
                    .group_by(Order.assignee_id)
                )
            }
            await conn.execute(
                insert(Task),
                [
                    {
                        "account_id": owner.account_id,
                        "order_id": first[m],
                        "text": "Call back",
                        "author_id": m,
                        "assignee_id": m,
                        "due_at": yesterday,
                        "status": "open",
                        "created_at": T0,
                        "updated_at": T0,
                    }
                    for m in ids
                ],
            )
    await settle(engine)
    return accounts


async def bench_digest(report: Report, dbs: Databases, sizes: dict, kind: str) -> None:
    """The 09:00 run of the digest job against one SELECT of the same member rows."""
    count = sizes["digest_members"]
    async with dbs.fresh(kind, "digest") as engine:
        accounts = await digest_shops(engine, count)
        rows: list = []

        async def select_them() -> None:
            async with engine.connect() as conn:
                query = select(Member.__table__).where(Member.account_id.in_(accounts))
                rows[:] = (await conn.execute(query)).all()

        anchor = await timed(select_them, sizes["repeat"])  # warm, the median
        uows = UnitOfWorkFactory(session_factory(engine), FrozenClock(DIGEST_MONDAY))
        runs = []
        for run in range(DIGEST_RUNS):
            if run:
                await undo_digests(engine)
            began = time.perf_counter()
            sent = await send_digests(uows)
            runs.append(time.perf_counter() - began)
            again = await send_digests(uows)
            async with engine.connect() as conn:
                written = await conn.scalar(
                    select(func.count(func.distinct(OutboxMessage.member_id))).where(
                        OutboxMessage.kind == "digest"
                    )
                )
            if not (sent == written == len(rows) == count) or again:
                report.fail(
                    f"digest [{kind}]: {sent} sent, {written} members written, {again} on a "
                    f"second run, of {count}"
                )
    took = statistics.median(runs)
    report.add(
        Figure(
            f"digest job [{kind}]",
            took / anchor,
            "x",
            f"{count:,} members in {took:.2f} s (median of {DIGEST_RUNS} runs: "
            f"{', '.join(f'{t:.2f}' for t in runs)}) vs one SELECT of them {anchor * 1000:.0f} ms",
            took / anchor <= 10,
        )
    )


async def undo_digests(engine: AsyncEngine) -> None:
    """Back to 09:00 before the job ran: every member owed today's digest, no digest written."""
    async with engine.begin() as conn:
        await conn.execute(update(Member).values(digest_sent_on=None))
        await conn.execute(delete(OutboxMessage).where(OutboxMessage.kind == "digest"))
    await settle(engine)


async def bench_report(report: Report, dbs: Databases, sizes: dict, kind: str) -> None:
    """Warm: /report again, the chart sent by its file_id. Cold: new figures each time, so the
    chart is drawn and uploaded. Both against one raw GROUP BY over the same rows."""
    count = sizes["report_orders"]
    async with dbs.fresh(kind, "report") as engine:
        _, owner, crew = await shop(engine)
        await fill_orders(engine, owner.account_id, [m.member_id for m in crew], count)
        app = build_app(
            settings_for(engine), session=OfflineSession(), clock=FrozenClock(T0), engine=engine
        )
        app.flood_memory.per_second = 1_000_000
        client = ChatClient(app.dp, app.bot, owner.telegram_id)
        reply = await client.send("/report")
        if not reply.requests:
            report.fail(f"/report [{kind}] answered nothing")
        client.session.requests.clear()
        start = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=3)
        end = datetime(2026, 12, 1, tzinfo=UTC) - timedelta(hours=3)
        completed_in_month = (
            Order.account_id == owner.account_id,
            Order.status == OrderStatus.COMPLETED,
            Order.completed_at >= start,
            Order.completed_at < end,
            Order.currency == "RUB",
        )
        async with engine.connect() as conn:
            changing = await conn.scalar(select(func.min(Order.id)).where(*completed_in_month))
        photos: list[object] = []  # what each /report sent as its chart: a file_id or an upload

        async def full() -> None:
            await client.send("/report")
            photos.extend(r.photo for r in client.session.requests if isinstance(r, SendPhoto))
            client.session.requests.clear()
            client.session.screens.clear()

        async def raw() -> None:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(Order.assignee_id, func.count(), func.sum(Order.total))
                    .where(*completed_in_month)
                    .group_by(Order.assignee_id)
                )
                assert rows.all()

        async def drawn() -> float:
            """One ruble more on one order: other figures, another chart (not timed)."""
            async with engine.begin() as conn:
                await conn.execute(
                    update(Order).where(Order.id == changing).values(total=Order.total + 100)
                )
            began = time.perf_counter()
            await full()
            return time.perf_counter() - began

        f, a = await timed(full, sizes["repeat"]), await timed(raw, sizes["repeat"])
        if not photos or not all(isinstance(p, str) for p in photos):
            report.fail(f"/report [{kind}] again drew the chart instead of sending its file_id")
        photos.clear()
        cold = sorted([await drawn() for _ in range(sizes["repeat"])])
        c = cold[len(cold) // 2]
        if len(photos) != sizes["repeat"] or any(isinstance(p, str) for p in photos):
            report.fail(f"/report [{kind}] with new figures did not draw a new chart")
        report.add(
            Figure(
                f"report [{kind}]",
                f / a,
                "x",
                f"/report month {f * 1000:.1f} ms (chart sent by file_id) vs GROUP BY "
                f"{a * 1000:.1f} ms, {count:,} orders",
                f / a <= 3,
            )
        )
        report.add(
            Figure(
                f"report, chart drawn [{kind}]",
                c / a,
                "x",
                f"/report month with new figures {c * 1000:.1f} ms (chart drawn and uploaded) "
                f"vs GROUP BY {a * 1000:.1f} ms",
            )
        )


async def bench_sender(report: Report, dbs: Databases, sizes: dict) -> None:
    count, chats = sizes["notifications"], sizes["chats"]
    limit, per_chat = 300, 10
    standin = TelegramStandIn(per_second=limit, per_chat_per_second=per_chat)
    base = await standin.start()
    async with dbs.fresh("sqlite", "sender") as engine:
        uows, owner, _ = await shop(engine, 0)
        async with uows() as uow:
            account = await uow.session.get(Account, owner.account_id)
            for i in range(count):
                await outbox.enqueue(
                    uow,
                    account=account,
                    event_key=f"bench:{i}",
                    kind="test",
                    params={"n": i},
                    recipients=[outbox.Recipient(5_000_000 + i % chats, "en")],
                    respect_quiet_hours=False,
                )
            await uow.commit()
        session = AiohttpSession(api=TelegramAPIServer.from_base(base))
        bot = Bot(standin.token, session=session)
        uows_real = UnitOfWorkFactory(session_factory(engine), SystemClock())
        limiter = RateLimiter(Limits(per_second=limit, per_chat_per_second=per_chat))
        sender = OutboxSender(bot, uows_real, build_i18n("en"), limiter, batch_size=100)
        began = time.perf_counter()
        task = asyncio.create_task(sender.run())
        deadline = began + max(60, count / limit * 4)
        while len(standin.delivered) < count and time.perf_counter() < deadline:
            standin.new_call.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(standin.new_call.wait(), 0.05)
        took = time.perf_counter() - began
        sender.stop()
        await task
        await bot.session.close()
        await asyncio.sleep(0.2)
        await standin.stop()
        async with engine.connect() as conn:
            unsent = await conn.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
            )
    delivered = standin.delivered
    unique = set(delivered)
    lost = count - len(unique)
    duplicates = len(delivered) - len(unique)
    attempts = len(standin.calls_of("sendMessage"))
    share = standin.answered_429 / attempts if attempts else 0.0
    throughput = len(delivered) / took
    ok = lost == 0 and duplicates == 0 and unsent == 0
    if not ok:
        report.fail(f"sender: {lost} lost, {duplicates} duplicates, {unsent} unsent rows")
    report.add(
        Figure(
            "sender throughput",
            throughput / limit,
            "x",
            f"{throughput:.0f}/s of {limit}/s: {count:,} to {chats:,} chats in {took:.1f} s, "
            f"{lost} lost, {duplicates} duplicates",
            throughput / limit >= 0.9 and ok,
        )
    )
    report.add(
        Figure(
            "sender 429 share",
            share,
            "share",
            f"{standin.answered_429} of {attempts} requests answered 429",
            share <= 0.01,
        )
    )


async def bench_fleet_sender(report: Report, dbs: Databases, sizes: dict) -> None:
    """Two real bot processes drain one outbox under one SEND_PER_SECOND kept in Redis; the
    stand-in answers 429 beyond it. Full sizes measure the combined rate against the limit."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        print("  skipped: TEST_REDIS_URL is not set (the shared limit lives in Redis)")
        return
    count, limit = sizes["fleet_notifications"], sizes["fleet_limit"]
    kind = "postgresql" if dbs.postgres_url else "sqlite"
    async with dbs.fresh(kind, "fleet") as engine:
        url = engine.url.render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory(prefix="fleet-", dir=dbs.folder) as folder:
            result = await send_across_processes(
                database_url=url,
                redis_url=redis_url,
                prefix=f"bench-fleet:{uuid.uuid4().hex}",
                folder=Path(folder),
                count=count,
                limit=limit,
                standin_enforces=True,
            )
    ok = result.lost == 0 and result.duplicates == 0 and result.unsent == 0
    if not ok:
        report.fail(
            f"fleet sender: {result.lost} lost, {result.duplicates} duplicates, "
            f"{result.unsent} unsent rows"
        )
    ratio = result.rate / limit
    report.add(
        Figure(
            "sender across two processes sharing one limit (Redis)",
            ratio,
            "x",
            f"{result.rate:.0f}/s of {limit}/s together [{kind}]: {count:,} to {count:,} chats, "
            f"sent {' + '.join(map(str, result.sent_by_process))} by the two processes, "
            f"at most {result.most_in_one_second()} in one second, "
            f"{result.lost} lost, {result.duplicates} duplicates",
            ratio >= 0.9 and ok,
        )
    )
    report.add(
        Figure(
            "sender across two processes, 429 share",
            result.share_429,
            "share",
            f"{result.answered_429} of {result.attempts} requests answered 429",
            result.share_429 <= 0.01,
        )
    )


async def bench_webhook(report: Report, dbs: Databases, sizes: dict) -> None:
    """`/orders` posted to the webhook of one process, then of two (PostgreSQL + Redis), the
    same updates from the same members over the same orders: updates a second, the ratio, and
    the latency from the post to the reply at the stand-in."""
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not (redis_url and dbs.postgres_url):
        print("  skipped: TEST_POSTGRES_URL and TEST_REDIS_URL are needed (a fleet's setup)")
        return
    if sizes["quick"]:
        print("  skipped in quick mode: starting three processes takes most of a minute")
        return
    count = sizes["webhook_updates"]
    async with dbs.fresh("postgresql", "webhook") as engine:
        _, owner, crew = await shop(engine, sizes["webhook_users"])
        await fill_orders(
            engine, owner.account_id, [m.member_id for m in crew], sizes["orders_small"]
        )
        url = engine.url.render_as_string(hide_password=False)
        loads = {}
        with tempfile.TemporaryDirectory(prefix="webhook-", dir=dbs.folder) as folder:
            for processes in (1, 2):
                loads[processes] = await webhook_load(
                    database_url=url,
                    redis_url=redis_url,
                    prefix=f"bench-webhook:{uuid.uuid4().hex}",
                    folder=Path(folder),
                    processes=processes,
                    users=[m.telegram_id for m in crew],
                    count=count,
                )
    for processes, load in loads.items():
        if load.failed or len(load.latencies) != count:
            report.fail(f"webhook ({processes} processes): {load.failed} of {count} unanswered")
        report.add(
            Figure(
                f"webhook throughput, {processes} process{'es' if processes > 1 else ''}",
                load.rate,
                "/s",
                f"{count:,} /orders from {len(crew)} members ({sizes['orders_small']:,} orders) "
                f"in {load.took:.1f} s; latency p50 {load.p50 * 1000:.0f} ms, "
                f"p99 {load.percentile(0.99) * 1000:.0f} ms; {load.busy} answered 503",
            )
        )
    one, two = loads[1], loads[2]
    report.add(
        Figure(
            "webhook throughput, two processes / one",
            two.rate / one.rate if one.rate else 0.0,
            "x",
            f"{two.rate:.0f}/s vs {one.rate:.0f}/s [postgresql + redis, 2 cores]",
        )
    )


async def bench_intake(report: Report, dbs: Databases, sizes: dict) -> None:
    """Orders through the intake API of one process (PostgreSQL) against raw INSERTs of the
    same rows, one per transaction, at the same concurrency."""
    if not dbs.postgres_url:
        print("  skipped: TEST_POSTGRES_URL is not set")
        return
    if sizes["quick"]:
        print("  skipped in quick mode (full runs only)")
        return
    count, concurrency = sizes["intake_orders"], 8
    async with dbs.fresh("postgresql", "intake") as engine:
        uows, owner, _ = await shop(engine, 2)
        async with uows() as uow:
            token = (await issue_token_for_account(uow, owner.account_id)).token
            await uow.commit()
        with tempfile.TemporaryDirectory(prefix="intake-", dir=dbs.folder) as folder:
            result = await intake_load(
                engine=engine,
                token=token,
                folder=Path(folder),
                count=count,
                concurrency=concurrency,
            )
    if result.refused or result.stored != count:
        report.fail(f"intake: {result.stored} of {count} stored, refused {result.refused[:5]}")
    ratio = result.took / result.anchor if result.anchor else 0.0
    report.add(
        Figure(
            "intake throughput",
            ratio,
            "x",
            f"{count / result.took:.0f} orders/s through POST /api/v1/orders (one process, "
            f"{concurrency} clients) vs {count / result.anchor:.0f}/s raw INSERT + COMMIT of the "
            f"same rows ({concurrency} connections) [postgresql]",
            ratio <= 5,
        )
    )


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR)
    sizes = dict(QUICK if args.quick else FULL)
    for key in list(sizes):
        value = getattr(args, key, None)
        if value:
            sizes[key] = value
    sizes["quick"] = args.quick
    postgres = os.environ.get("TEST_POSTGRES_URL") or None
    report = Report()
    print(f"ShopDesk bench ({'quick' if args.quick else 'full'}): {sizes}", flush=True)
    with tempfile.TemporaryDirectory(prefix="shopdesk-bench-") as folder:
        dbs = Databases(folder, postgres)
        # Idle: the real bot process after start (migrated, commands set, polling).
        idle, _ = await idle_bot_process(folder)
        # The bench's start-up (imports, the idle process's measurement) is over: as the bot does
        # after its own (shopdesk/heap.py), full collections no longer walk what it made.
        freeze_startup()
        began = time.perf_counter()
        steps = [
            ("dispatch", bench_dispatch(report, dbs, sizes)),
            ("sender", bench_sender(report, dbs, sizes)),
            ("fleet sender", bench_fleet_sender(report, dbs, sizes)),
            ("fleet webhook", bench_webhook(report, dbs, sizes)),
            ("fleet intake", bench_intake(report, dbs, sizes)),
        ]
        for kind in dbs.kinds():
            steps += [
                (f"claim {kind}", bench_claim(report, dbs, sizes, kind)),
                (f"auto-assignment {kind}", bench_auto_assign(report, dbs, sizes, kind)),
                (f"report {kind}", bench_report(report, dbs, sizes, kind)),
                (f"renewals {kind}", bench_renewals(report, dbs, sizes, kind)),
                (f"lists {kind}", bench_lists(report, dbs, sizes, kind)),
                (f"digest {kind}", bench_digest(report, dbs, sizes, kind)),
            ]
        for name, step in steps:
            if args.only and not any(o in name for o in args.only):
                step.close()
                continue
            print(f"[{name}]", flush=True)
            t = time.perf_counter()
            try:
                await step
            except Exception as exc:  # one broken figure must not hide the rest
                logging.exception("%s failed", name)
                report.fail(f"{name}: {exc!r}")
            # The peak so far (which step raised the whole run's peak RSS) and what stays resident.
            print(
                f"  ({time.perf_counter() - t:.1f} s, peak {peak_mb():.0f} MB,"
                f" now {rss_mb():.0f} MB)",
                flush=True,
            )
        report.add(
            Figure(
                "idle RSS",
                idle,
                "MB",
                "`python -m bot run` after start, schema at head",
                idle <= 120,
            )
        )
        peak = peak_mb()
        report.add(Figure("peak RSS", peak, "MB", "whole run, this process", peak <= 250))
    table(report, sizes, args.quick, time.perf_counter() - began)
    RESULTS.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "mode": "quick" if args.quick else "full",
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "sizes": sizes,
                "figures": [f.__dict__ for f in report.figures],
                "failures": report.failures,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    print(f"written {RESULTS}")
    if report.failures:
        print("WRONG RESULTS:\n  " + "\n  ".join(report.failures))
        return 1
    return 0


def table(report: Report, sizes: dict, quick: bool, took: float) -> None:
    print()
    print("| figure | value | target | met | detail |")
    print("|---|---|---|---|---|")
    for f in report.figures:
        base = f.name.split(" [")[0]
        target = TARGETS.get(base, "—")
        met = "—" if f.ok is None else ("yes" if f.ok else "NO")
        if quick and f.ok is not None and base not in ("claim", "auto-assignment"):
            met = f"({met})"  # quick sizes: speed is not judged
        print(f"| {f.name} | {fmt(f)} | {target} | {met} | {f.detail} |")
    if quick:
        print("(quick sizes: speed targets in parentheses are not judged, only correctness)")
    print(f"\n{'quick' if quick else 'full'} run in {took:.0f} s")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, correctness only")
    parser.add_argument("--only", nargs="*", help="run only the steps whose name contains one")
    for key in FULL:
        parser.add_argument(f"--{key.replace('_', '-')}", dest=key, type=int)
    return parser.parse_args(argv)
