"""Applying Alembic migrations from code (start-up, `python -m bot migrate`, tests).

At start the schema is usually at head already: one SELECT of `alembic_version` compared with the
heads read from the migration files' text says so, and Alembic (≈11 MB resident, with Mako) is not
imported at all. Otherwise Alembic runs as always.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_KEY = 0x5D0_0001  # any constant shared by every ShopDesk process
_REVISION = re.compile(r"""^revision\s*(?::[^=]+)?=\s*['"]([^'"]+)['"]""", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]+)?=\s*(.+)$", re.MULTILINE)


def alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def heads() -> frozenset[str]:
    """The revisions no migration builds on, read from the files as Alembic would find them."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        if down is not None:
            parents.update(re.findall(r"""['"]([^'"]+)['"]""", down.group(1)))
    return frozenset(revisions - parents)


async def current(engine: AsyncEngine) -> frozenset[str] | None:
    """The revisions the database is at (one query), or None if it has no version table yet."""
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return frozenset(rows.scalars())
    except DBAPIError:
        return None


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    if revision == "head" and await current(engine) == heads():
        return
    await _alembic_upgrade(engine, revision)


async def _alembic_upgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

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
