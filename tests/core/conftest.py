"""Fixtures shared by the core tests."""

from __future__ import annotations

import pytest

from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from tests.support.db import migrated_to


@pytest.fixture
async def other(engine, request, clock):
    """Another process: its own engine and connection pool against the same database."""
    if engine.dialect.name == "postgresql":
        second = request.getfixturevalue("pg_schema").engine()
    else:
        second = create_engine(engine.url.render_as_string(hide_password=False))
    yield UnitOfWorkFactory(session_factory(second), clock)
    await second.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def old_engine(request, tmp_path):
    """For a migration's test: a database of its own migrated up to the test module's BEFORE
    (the revision before the migration it tests), SQLite and PostgreSQL."""
    async with migrated_to(request.module.BEFORE, request.param, tmp_path) as engine:
        yield engine
