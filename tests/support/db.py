"""Database fixtures: a migrated SQLite template copied per test, and a fresh PostgreSQL schema."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.engine import create_engine
from core.db.migrate import upgrade
from core.db.models import Base

POSTGRES_ENV = "TEST_POSTGRES_URL"


def run_blocking(make_coro) -> None:
    """Runs a coroutine to completion on a loop of its own, even from inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(make_coro())).result()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def build_sqlite_template(path: Path) -> Path:
    async def go() -> None:
        engine = create_engine(sqlite_url(path))
        await upgrade(engine)
        await engine.dispose()

    run_blocking(go)
    return path


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copy(template, target)
    return sqlite_url(target)


class PostgresSchema:
    """A schema of its own per test run, migrated once, truncated between tests."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.schema = f"t_{uuid.uuid4().hex[:12]}"

    @property
    def connect_args(self) -> dict:
        return {"server_settings": {"search_path": self.schema}}

    def engine(self) -> AsyncEngine:
        return create_engine(self.url, pool_size=5, connect_args=self.connect_args)

    def create(self) -> None:
        async def go() -> None:
            admin = create_engine(self.url, pool_size=1)
            async with admin.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            await admin.dispose()
            engine = self.engine()
            await upgrade(engine)
            await engine.dispose()

        run_blocking(go)

    def drop(self) -> None:
        async def go() -> None:
            admin = create_engine(self.url, pool_size=1)
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            await admin.dispose()

        run_blocking(go)

    async def truncate(self, engine: AsyncEngine) -> None:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None
