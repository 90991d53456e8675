from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.lazy_types import install
from core.clock import FrozenClock
from core.db.engine import session_factory
from core.db.uow import UnitOfWorkFactory
from tests.support.db import (
    PostgresSchema,
    build_sqlite_template,
    copy_sqlite,
    create_engine,
    postgres_url,
)

install()  # the test process is an entry point: aiogram's models are built on first use

# A Sunday morning in Moscow; tests move the clock by hand.
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    return build_sqlite_template(tmp_path_factory.mktemp("template") / "template.db")


@pytest.fixture(scope="session")
def pg_schema():
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL tests skipped (.ci/run sets it)")
    schema = PostgresSchema(url)
    try:
        schema.create()
    except OSError as exc:
        pytest.skip(f"PostgreSQL at TEST_POSTGRES_URL is not reachable: {exc}")
    yield schema
    schema.drop()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    return copy_sqlite(sqlite_template, tmp_path / "test.db")


@pytest.fixture
async def sqlite_engine(sqlite_url):
    engine = create_engine(sqlite_url)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request, sqlite_template, tmp_path):
    """Core and repository tests run once per database."""
    if request.param == "sqlite":
        engine = create_engine(copy_sqlite(sqlite_template, tmp_path / "test.db"))
    else:
        schema = request.getfixturevalue("pg_schema")
        engine = schema.engine()
        await schema.truncate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def uows(engine, clock) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory(engine), clock)
