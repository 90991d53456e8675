"""Fixtures shared by the core tests."""

from __future__ import annotations

import pytest

from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory


@pytest.fixture
async def other(engine, request, clock):
    """Another process: its own engine and connection pool against the same database."""
    if engine.dialect.name == "postgresql":
        second = request.getfixturevalue("pg_schema").engine()
    else:
        second = create_engine(engine.url.render_as_string(hide_password=False))
    yield UnitOfWorkFactory(session_factory(second), clock)
    await second.dispose()
