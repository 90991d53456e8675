"""The dialect-specific statements the core needs (ledger, journal pools, outbox, renewals)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

from core.db.base import Base
from core.db.uow import UnitOfWork


def insert_ignoring_duplicates(uow: UnitOfWork, model: type[Base]) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING`: concurrent creators of one row both succeed."""
    dialect = uow.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model).on_conflict_do_nothing()


def json_object(uow: UnitOfWork, *keys_and_values: Any) -> ColumnElement:
    """A JSON object built by the database, per row (`key1, value1, key2, value2, …`)."""
    dialect = uow.session.get_bind().dialect.name
    build = func.json_build_object if dialect == "postgresql" else func.json_object
    return build(*keys_and_values)


async def plan_each_statement(uow: UnitOfWork) -> None:
    """PostgreSQL, until the transaction ends: plan every statement for its own parameters and
    the tables as they are now. A transaction that grows a table by 100 000 rows must not keep
    reusing the generic plan PostgreSQL cached while the table was nearly empty (it probes the
    wrong index, and each probe reads the whole account). SQLite plans every statement anyway.
    """
    if uow.session.get_bind().dialect.name == "postgresql":
        await uow.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
