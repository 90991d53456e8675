"""Applying Alembic migrations from code (start-up, `python -m bot migrate`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_KEY = 0x5D0_0001  # any constant shared by every ShopDesk process


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    config = alembic_config()

    def run(connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration copies a table and drops the old one; with foreign keys on,
            # the drop deletes the rows that refer to it (ON DELETE CASCADE) in other tables.
            await _pragma(connection, "foreign_keys=OFF")
        try:
            async with connection.begin():
                if connection.dialect.name == "postgresql":
                    # No timeouts here: waiting for another process's migration, or building
                    # an index on a big table, may take longer than the engine's limits.
                    await connection.execute(text("SET LOCAL statement_timeout = 0"))
                    await connection.execute(text("SET LOCAL lock_timeout = 0"))
                    # Several bot processes may start at once: one migrates, the others wait.
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY}
                    )
                await connection.run_sync(run)
        finally:
            if sqlite:
                await _pragma(connection, "foreign_keys=ON")


async def _pragma(connection: AsyncConnection, pragma: str) -> None:
    """A PRAGMA on the driver's cursor, outside any transaction (the engine's BEGIN IMMEDIATE
    would precede it otherwise, and SQLite ignores foreign_keys inside a transaction)."""

    def run(sync) -> None:
        cursor = sync.connection.dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA {pragma}")
        finally:
            cursor.close()

    await connection.run_sync(run)
    await connection.commit()
