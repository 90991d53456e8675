"""Database fixtures: a migrated SQLite template copied per test, and a fresh PostgreSQL schema."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, insert, text
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


@contextlib.asynccontextmanager
async def migrated_to(revision: str, kind: str, folder: Path) -> AsyncIterator[AsyncEngine]:
    """A database of its own migrated up to `revision` (a migration's test starts before it):
    a SQLite file in `folder`, or a PostgreSQL schema dropped afterwards (skipped without
    TEST_POSTGRES_URL)."""
    if kind == "sqlite":
        engine = create_engine(sqlite_url(folder / "old.db"))
        await upgrade(engine, revision)
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    url = postgres_url()
    if url is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    schema = PostgresSchema(url)
    admin = create_engine(url, pool_size=1)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema.schema}"'))
    engine = schema.engine()
    try:
        await upgrade(engine, revision)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema.schema}" CASCADE'))
        await admin.dispose()


async def insert_as_it_was(conn, model, row: dict) -> int:
    """Inserts `row` into the table of `model` as the old database has it (columns added by
    later migrations left out; the model's scalar defaults fill the others); returns the id."""
    table = await conn.run_sync(
        lambda sync: Table(model.__tablename__, MetaData(), autoload_with=sync)
    )
    values = {}
    for column in table.c:
        if column.name in row:
            values[column.name] = row[column.name]
            continue
        default = model.__table__.c[column.name].default
        if default is not None and default.is_scalar:
            values[column.name] = default.arg
    return (await conn.execute(insert(table).values(values).returning(table.c.id))).scalar_one()


def stored_account(created_at, **fields) -> dict:
    """An account row for `insert_as_it_was`: what every account has (the standard tariff, in
    Russian, in Moscow), with `fields` on top (its name, zone, working hours…)."""
    return {
        "name": "Shop",
        "tariff_code": "standard",
        "created_at": created_at,
        "timezone": "Europe/Moscow",
        "locale": "ru",
        **fields,
    }


def stored_order(account_id: int, number: str, created_at, **fields) -> dict:
    """An order row for `insert_as_it_was`: what every order has (100 ₽, from the API, no
    items), with `fields` on top (status, claim and completion times, the customer…)."""
    return {
        "account_id": account_id,
        "number": number,
        "source": "api",
        "customer_name": "Customer",
        "items": [],
        "total": 100_00,
        "currency": "RUB",
        "status": "new",
        "created_at": created_at,
        "updated_at": created_at,
        **fields,
    }
