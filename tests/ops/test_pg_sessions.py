"""PostgreSQL sessions start with the timeouts and the application name of the settings; behind
PgBouncer (transaction mode) no prepared-statement cache outlives a statement."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.db.engine import PostgresOptions, create_engine
from core.settings import Settings


async def _show(engine, *names: str) -> dict[str, str]:
    async with engine.connect() as connection:
        return {n: await connection.scalar(text(f"SHOW {n}")) for n in names}


async def test_each_connection_starts_with_the_configured_timeouts_and_name(pg_schema):
    settings = Settings(
        _env_file=None,
        database_url=pg_schema.url,
        database_statement_timeout_seconds=12.5,
        database_lock_timeout_seconds=2,
        database_application_name="shop-fleet",
    )
    engine = create_engine(
        pg_schema.url,
        pool_size=1,
        connect_args=pg_schema.connect_args,  # the caller's server settings are kept
        postgres=settings.postgres_options("bot"),
    )
    try:
        shown = await _show(
            engine, "statement_timeout", "lock_timeout", "application_name", "search_path"
        )
        assert shown == {
            "statement_timeout": "12500ms",
            "lock_timeout": "2s",
            "application_name": "shop-fleet-bot",
            "search_path": pg_schema.schema,
        }
    finally:
        await engine.dispose()


async def test_the_defaults_are_30_s_5_s_and_the_role_in_the_name(pg_schema):
    engine = create_engine(
        pg_schema.url, pool_size=1, postgres=Settings(_env_file=None).postgres_options("cli")
    )
    try:
        assert await _show(engine, "statement_timeout", "lock_timeout", "application_name") == {
            "statement_timeout": "30s",
            "lock_timeout": "5s",
            "application_name": "shopdesk-cli",
        }
    finally:
        await engine.dispose()


async def test_pgbouncer_mode_turns_the_statement_caches_off(pg_schema):
    options = Settings(_env_file=None, database_pooler="pgbouncer").postgres_options("bot")
    args = options.connect_args()
    assert args["statement_cache_size"] == 0
    assert args["prepared_statement_cache_size"] == 0
    # PgBouncer refuses startup parameters it does not track: only the name goes at connect.
    assert args["server_settings"] == {"application_name": "shopdesk-bot"}
    names = {args["prepared_statement_name_func"]() for _ in range(3)}
    assert len(names) == 3  # unique: another client's statements may sit on the server

    engine = create_engine(pg_schema.url, pool_size=1, postgres=options)
    try:
        async with engine.connect() as connection:
            for _ in range(3):  # the same statement again: nothing is kept for it
                assert await connection.scalar(text("SELECT 1")) == 1
            adapted = (await connection.get_raw_connection()).driver_connection
            assert adapted._stmt_cache.get_max_size() == len(adapted._stmt_cache) == 0  # asyncpg
            raw = (await connection.get_raw_connection()).dbapi_connection
            assert raw._prepared_statement_cache is None  # SQLAlchemy's
    finally:
        await engine.dispose()


def test_an_unknown_pooler_is_refused():
    with pytest.raises(ValueError, match="pooler"):
        PostgresOptions(pooler="pgpool")
