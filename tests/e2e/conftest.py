from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.clock import SystemClock
from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from tests.support.botprocess import BotProcess, CommitGate, Peek, PostgresDatabases
from tests.support.db import postgres_url, run_blocking
from tests.support.telegram_standin import TelegramStandIn


@pytest.fixture(scope="session")
def pg_databases():
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL tests skipped (.ci/run sets it)")
    databases = PostgresDatabases(url)
    run_blocking(databases.create_template)
    yield databases
    run_blocking(databases.drop_template)


@dataclass
class BotDatabase:
    url: str
    uows: UnitOfWorkFactory  # the test's own connections, on the real clock like the process
    peek: Peek


@pytest.fixture(params=["sqlite", "postgres"])
async def bot_database(request, sqlite_url):
    """A database of its own for a bot process, once on SQLite and once on PostgreSQL."""
    databases = request.getfixturevalue("pg_databases") if request.param == "postgres" else None
    url = sqlite_url if databases is None else await databases.create()
    engine = create_engine(url, pool_size=5)
    uows = UnitOfWorkFactory(session_factory(engine), SystemClock())
    database = BotDatabase(url, uows, Peek(url))
    yield database
    await database.peek.close()
    await engine.dispose()
    if databases is not None:
        await databases.drop(url)


@pytest.fixture
async def standin():
    standin = TelegramStandIn()
    await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
async def start_bot(standin, tmp_path):
    """`start_bot(env)` starts a bot process (log: bot.log); any still running at the end is
    killed before the stand-in stops."""
    started: list[BotProcess] = []

    def start(env: dict[str, str]) -> BotProcess:
        started.append(BotProcess(env, tmp_path / "bot.log").start())
        return started[-1]

    yield start
    for process in started:
        if process.popen.poll() is None:
            await process.kill()


@pytest.fixture
async def commit_gate(bot_database):
    """`await commit_gate(table, condition, event)`: a `CommitGate` on the test's PostgreSQL
    database, removed at the end whatever happened."""
    gates: list[CommitGate] = []

    async def close(table: str, condition: str, event: str = "INSERT") -> CommitGate:
        gates.append(CommitGate(bot_database.url, table, condition, event))
        return await gates[-1].close_on_commit()

    yield close
    for gate in gates:
        await gate.cut()
