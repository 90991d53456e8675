"""The dialect-specific statements the core needs (ledger, journal pools, outbox, renewals)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, String, Table, any_, cast, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement

from core.db.base import Base
from core.db.uow import UnitOfWork


def insert_ignoring_duplicates(uow: UnitOfWork, model: type[Base] | Table) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING`: concurrent creators of one row both succeed."""
    return _insert_ignoring(uow.session.get_bind().dialect.name, model)


@cache
def _insert_ignoring(dialect: str, model: type[Base] | Table) -> Insert:
    """Built once per dialect and table (statements are immutable: callers' additions copy)."""
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model).on_conflict_do_nothing()


async def lease_due(
    uow: UnitOfWork,
    model: type[Base],
    key: Any,
    due: ColumnElement[bool],
    *,
    owner: str,
    until: datetime,
    limit: int,
    also: dict[str, Any] | None = None,
    held_if: ColumnElement[bool] | None = None,
    rows: bool = False,
) -> list[Any]:
    """Leases up to `limit` rows matching `due` (lowest `key` first) to `owner` until `until`
    and returns what this owner got: their keys, or the rows themselves (`rows=True`, loaded
    fresh). The queues' one claim (outbox, inbox, shop deliveries, status posts): PostgreSQL
    picks disjoint batches with FOR UPDATE SKIP LOCKED; the UPDATE re-checks `due`, so a row
    another process took meanwhile (SQLite's single writer, or a lapsed lease taken twice) is
    not taken again. `also`: more columns the UPDATE sets; `held_if`: what a row this owner
    holds must still be (e.g. pending, where the owner may have finished one meanwhile). Does
    not commit."""
    candidates = select(key).where(due).order_by(key).limit(limit)
    if uow.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(await uow.session.scalars(candidates))
    if not ids:
        return []
    await uow.session.execute(
        update(model)
        .where(key.in_(ids), due)
        .values(lease_owner=owner, lease_until=until, **(also or {}))
        .execution_options(synchronize_session=False)
    )
    held = select(model if rows else key).where(key.in_(ids), model.lease_owner == owner)
    if held_if is not None:
        held = held.where(held_if)
    if rows:
        held = held.execution_options(populate_existing=True)
    return list(await uow.session.scalars(held.order_by(key)))


def json_object(uow: UnitOfWork, *keys_and_values: Any) -> ColumnElement:
    """A JSON object built by the database, per row (`key1, value1, key2, value2, …`)."""
    dialect = uow.session.get_bind().dialect.name
    build = func.json_build_object if dialect == "postgresql" else func.json_object
    return build(*keys_and_values)


def json_value(uow: UnitOfWork, value: Any) -> ColumnElement:
    """`value` (a built object, a CASE of them, JSON text) nested as JSON inside `json_object`,
    not as a string; SQL NULL stays null."""
    if uow.session.get_bind().dialect.name == "postgresql":
        return cast(value, postgresql.JSON)
    return func.json(value)


def among(uow: UnitOfWork, column: Any, ids: list[int]) -> ColumnElement[bool]:
    """`column IN ids` for a long list: on PostgreSQL one array parameter (`= ANY`), planned
    and bound as one value instead of one parameter per id."""
    if uow.session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(ids, postgresql.ARRAY(BigInteger)))
    return column.in_(ids)


def iso_utc(uow: UnitOfWork, moment: Any) -> ColumnElement:
    """A UTC timestamp column as ISO 8601 text with its offset, as `datetime.fromisoformat`
    reads it back aware (SQLite stores the moment naive, `YYYY-MM-DD HH:MM:SS.ffffff`)."""
    if uow.session.get_bind().dialect.name == "postgresql":
        text_ = func.to_char(func.timezone("UTC", moment), 'YYYY-MM-DD"T"HH24:MI:SS.US')
    else:
        text_ = func.replace(moment, " ", "T", type_=String)
    return cast(text_, String) + literal("+00:00", String)


async def plan_each_statement(uow: UnitOfWork) -> None:
    """PostgreSQL, until the transaction ends: plan every statement for its own parameters and
    the tables as they are now. A transaction that grows a table by 100 000 rows must not keep
    reusing the generic plan PostgreSQL cached while the table was nearly empty (it probes the
    wrong index, and each probe reads the whole account). SQLite plans every statement anyway.
    """
    if uow.session.get_bind().dialect.name == "postgresql":
        await uow.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def no_jit(uow: UnitOfWork) -> None:
    """PostgreSQL, until the transaction ends: no JIT compilation of statements. A statement
    whose row estimates multiply (a join on the rows a data-modifying WITH returns, of which
    the planner knows nothing) is costed far above `jit_above_cost`, and compiling it takes
    longer than running it, every time, even when it has nothing to do. SQLite: nothing."""
    if uow.session.get_bind().dialect.name == "postgresql":
        await uow.session.execute(text("SET LOCAL jit = off"))
