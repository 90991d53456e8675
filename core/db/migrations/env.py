"""Alembic environment. Code passes a live connection; the CLI falls back to DATABASE_URL."""

from __future__ import annotations

import asyncio

from alembic import context

from core.db.engine import create_engine
from core.db.models import Base
from core.settings import load_settings

target_metadata = Base.metadata


def run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    settings = load_settings()
    engine = create_engine(settings.database_url, postgres=settings.postgres_options("migrate"))
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # as core/db/migrate.py: no timeouts
            await connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            await connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
        await connection.run_sync(run_with)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_online())
