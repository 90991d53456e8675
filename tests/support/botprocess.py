"""The real `python -m bot run` process in end-to-end tests, and its database seen from outside.

`BotProcess` starts, freezes (SIGSTOP), kills (SIGKILL) and stops (SIGTERM) the process.
`Peek` reads its database without taking any lock the process could wait for, and tells whether
the process has a write transaction open — what a crash test checks while the process is frozen,
so that what it sees is exactly the state the kill will cut.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.engine import create_engine
from core.db.migrate import upgrade
from tests.support.telegram_standin import TelegramStandIn

ROOT = Path(__file__).resolve().parents[2]


def bot_env(standin: TelegramStandIn, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a bot process talking to `standin`; `settings` as env variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=standin.token,
        TELEGRAM_API_BASE=standin.base,
        DATABASE_URL=database_url,
        LOG_LEVEL="INFO",
        HTTP_PORT="0",  # the intake API on any free port: parallel runs must not collide
    )
    env.update(settings)
    return env


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> Callable[[], None] | None:
    """For `Popen(preexec_fn=…)`, Linux: the child gets SIGTERM when the thread that started it
    ends. A test run or `make bench` killed mid-step (SIGTERM skips its `finally` blocks) would
    otherwise leave its bot processes running alone, polling a stand-in that is gone and
    holding their database's connections. prctl is looked up here, in the parent: between fork
    and exec the child only calls it. Elsewhere: None."""
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None).prctl

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return arm


class BotProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log_path = env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> BotProcess:
        log = self.log_path.open("a")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),  # started by the event loop's thread, which lives on
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self, tail: int = 6000) -> str:
        return self.log_path.read_text()[-tail:] if self.log_path.exists() else ""

    async def freeze(self) -> None:
        """SIGSTOP, and wait until the process really stands still."""
        os.kill(self.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while (stopped := _stopped(self.pid)) is False:
            assert time.monotonic() < deadline, "the process did not stop on SIGSTOP"
            await asyncio.sleep(0.0005)
        if stopped is None:  # no /proc: give the signal a moment
            await asyncio.sleep(0.05)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    async def freeze_when(
        self, ready: Callable[[], Awaitable[bool]], *, timeout: float = 20, step: float = 0.002
    ) -> None:
        """Lets the process run in small steps until `ready()` holds while it is frozen.

        The process is left frozen: `ready()` saw exactly the state a following kill cuts.
        """
        deadline = time.monotonic() + timeout
        while True:
            assert self.popen.poll() is None, "the process died:\n" + self.log()
            await self.freeze()
            if await _holds(ready):
                return
            self.thaw()
            assert time.monotonic() < deadline, "the moment to kill never came:\n" + self.log()
            await asyncio.sleep(step)

    async def kill(self) -> None:
        """SIGKILL: no handler runs, no transaction commits, nothing is flushed."""
        self.popen.kill()
        await asyncio.to_thread(self.popen.wait)

    async def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait off the event loop (the stand-in must keep answering meanwhile)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.popen.wait, timeout)
        except subprocess.TimeoutExpired:
            self.popen.send_signal(signal.SIGUSR1)  # the bot logs every asyncio task's stack
            await asyncio.sleep(1)
            await self.kill()
            pytest.fail("the process did not stop on SIGTERM:\n" + self.log())


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, process: BotProcess, timeout: float = 90
) -> None:
    """Polls `check` until it holds; the generous timeout is for slow starts on busy machines."""
    deadline = time.monotonic() + timeout
    while not await _holds(check):
        assert process.popen.poll() is None, f"{what}: the process died\n{process.log()}"
        assert time.monotonic() < deadline, f"{what}: not reached\n{process.log()}"
        await asyncio.sleep(0.02)


async def _holds(check: Callable[[], Awaitable[bool]]) -> bool:
    """`check()`, where SQLite being busy means "not yet": a process stopped while it rewrites
    the WAL index keeps readers out until it runs on (or dies)."""
    try:
        return await check()
    except sqlite3.OperationalError:
        return False


def _stopped(pid: int) -> bool | None:
    """Whether the kernel shows the process stopped; None where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0] in {"T", "t"}


class Peek:
    """Reads the process's database from outside, never waiting for a lock it holds."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        self._engine: AsyncEngine | None = None
        self._sqlite: sqlite3.Connection | None = None
        if self.is_sqlite:
            database = make_url(url).database
            self._sqlite = sqlite3.connect(database, timeout=0.2, isolation_level=None)
        else:
            self._engine = create_engine(url, pool_size=1).execution_options(
                isolation_level="AUTOCOMMIT"
            )

    async def scalar(self, sql: str, **params: Any) -> Any:
        if self._sqlite is not None:  # WAL: a reader never waits for the writer
            return self._sqlite.execute(sql, params).fetchall()[0][0]
        async with self._engine.connect() as conn:
            return await conn.scalar(text(sql), params)

    async def rows(self, sql: str, **params: Any) -> list[tuple]:
        if self._sqlite is not None:
            return [tuple(r) for r in self._sqlite.execute(sql, params).fetchall()]
        async with self._engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(sql), params)]

    async def write_open(self) -> bool:
        """Another connection has a write transaction open.

        SQLite: another connection holds the file's write lock (nothing else is visible of an
        open transaction). PostgreSQL: a transaction that has written and not ended.
        """
        if self._sqlite is not None:
            probe = sqlite3.connect(make_url(self.url).database, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return True
            finally:
                probe.close()  # closing rolls back what we may have begun
            return False
        return bool(
            await self.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            )
        )

    async def wait_transactions_gone(self, timeout: float = 20) -> None:
        """After a kill, PostgreSQL rolls back the dead client's transactions: wait for that."""
        deadline = time.monotonic() + timeout
        while await self.write_open():
            assert time.monotonic() < deadline, "a dead process's transaction stayed open"
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._engine is not None:
            await self._engine.dispose()


class PostgresDatabases:
    """Whole databases (the process reads DATABASE_URL only), copied from a migrated template."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.template = f"tpl_{uuid.uuid4().hex[:10]}"

    def _url(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    async def _admin(self, sql: str) -> None:
        admin = create_engine(self.url, pool_size=1)
        try:
            async with admin.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(sql))
        finally:
            await admin.dispose()

    async def create_template(self) -> None:
        await self._admin(f'CREATE DATABASE "{self.template}"')
        engine = create_engine(self._url(self.template), pool_size=1)
        await upgrade(engine)
        await engine.dispose()

    async def create(self) -> str:
        name = f"e2e_{uuid.uuid4().hex[:10]}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self._url(name)

    async def drop(self, url: str) -> None:
        name = make_url(url).database
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def drop_template(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


class CommitGate:
    """PostgreSQL: the transaction that wrote `table` (`event`: INSERT or UPDATE) and satisfies
    `condition` waits at COMMIT.

    A deferred constraint trigger fires when its transaction commits, after every write: it
    waits for an advisory lock this gate holds. The process then sits with all its work written
    and nothing committed; the test kills it and `cut()` ends the orphaned backend, as if the
    kill had come just before COMMIT was sent. `condition` is SQL run at that moment; `MINE`
    in it stands for "written by this transaction".
    """

    KEY = 42_424_242
    MINE = "xmin = pg_current_xact_id()::xid"

    def __init__(self, url: str, table: str, condition: str, event: str = "INSERT") -> None:
        self.table, self.condition, self.event = table, condition, event
        self._engine: AsyncEngine | None = create_engine(url, pool_size=2)
        self._holder = None
        self.pid: int | None = None

    async def _run(self, sql: str, **params: Any) -> Any:
        async with self._engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            result = await conn.execute(text(sql), params)
            return result.scalar() if result.returns_rows else None

    async def close_on_commit(self) -> CommitGate:
        self._holder = await self._engine.connect()
        await self._holder.execution_options(isolation_level="AUTOCOMMIT")
        await self._holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.KEY})
        condition = self.condition.replace("MINE", self.MINE)
        await self._run(
            "CREATE FUNCTION crash_gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF current_setting('crash_gate.seen', true) = 'y' THEN RETURN NULL; END IF;"
            " PERFORM set_config('crash_gate.seen', 'y', true);"
            f" IF {condition} THEN PERFORM pg_advisory_xact_lock_shared({self.KEY}); END IF;"
            " RETURN NULL; END $$"
        )
        await self._run(
            f'CREATE CONSTRAINT TRIGGER crash_gate AFTER {self.event} ON "{self.table}"'
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION crash_gate()"
        )
        return self

    async def held(self, process: BotProcess, timeout: float = 90) -> int:
        """Waits until a transaction waits at the gate; returns its backend's pid."""
        deadline = time.monotonic() + timeout
        while (
            pid := await self._run(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND objid = :k",
                k=self.KEY,
            )
        ) is None:
            assert process.popen.poll() is None, "the process died:\n" + process.log()
            assert time.monotonic() < deadline, "nothing reached the gate:\n" + process.log()
            await asyncio.sleep(0.02)
        self.pid = pid
        return pid

    async def cut(self) -> None:
        """After the kill: end the held transaction (rolled back), then remove the gate."""
        if self._engine is None:
            return
        if self.pid is not None:
            await self._run("SELECT pg_terminate_backend(:pid)", pid=self.pid)
            deadline = time.monotonic() + 20
            while await self._run(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = :p", p=self.pid
            ):
                assert time.monotonic() < deadline, "the held backend did not end"
                await asyncio.sleep(0.02)
        await self._run(f'DROP TRIGGER IF EXISTS crash_gate ON "{self.table}"')
        await self._run("DROP FUNCTION IF EXISTS crash_gate()")
        if self._holder is not None:
            await self._holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.KEY})
            await self._holder.close()
        await self._engine.dispose()
        self._engine = None
