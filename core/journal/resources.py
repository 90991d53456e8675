"""Pool items (tracking numbers) held by services: taken on order, kept on return, released on
close. The pool is platform-wide, so concurrent orders of different accounts skip each other's
locked rows instead of waiting for them."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, update

from core.db.sql import insert_ignoring_duplicates
from core.db.uow import UnitOfWork
from core.errors import Conflict
from core.journal.catalog import Pool
from core.journal.models import PoolResource


async def _free(uow: UnitOfWork, kind: str, count: int) -> list[int]:
    return list(
        await uow.session.scalars(
            select(PoolResource.id)
            .where(PoolResource.kind == kind, PoolResource.service_id.is_(None))
            .order_by(PoolResource.id)
            .limit(count)
            .with_for_update(skip_locked=True)
        )
    )


async def _fill(uow: UnitOfWork, pool: Pool) -> None:
    """Adds the catalog's pool items the table does not hold yet."""
    rows = [{"kind": pool.kind, "value": value} for value in pool.values()]
    await uow.session.execute(insert_ignoring_duplicates(uow, PoolResource), rows)


async def allocate(uow: UnitOfWork, pools: dict[str, Pool], service_id: int, needs: dict[str, int]):
    for kind, count in sorted(needs.items()):
        ids = await _free(uow, kind, count)
        if len(ids) < count:
            await _fill(uow, pools[kind])
            ids = await _free(uow, kind, count)
        if len(ids) < count:
            raise Conflict("pool_empty")
        taken = await uow.session.execute(
            update(PoolResource)
            .where(PoolResource.id.in_(ids), PoolResource.service_id.is_(None))
            .values(service_id=service_id, held_since=uow.clock.now())
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != count:
            raise Conflict("pool_busy")


async def held_by(uow: UnitOfWork, service_ids: list[int]) -> dict[int, list[str]]:
    if not service_ids:
        return {}
    rows = await uow.session.execute(
        select(PoolResource.service_id, PoolResource.value)
        .where(PoolResource.service_id.in_(service_ids))
        .order_by(PoolResource.id)
    )
    held: dict[int, list[str]] = defaultdict(list)
    for service_id, value in rows:
        held[service_id].append(value)
    return held


async def release(uow: UnitOfWork, service_id: int) -> list[str]:
    values = (await held_by(uow, [service_id])).get(service_id, [])
    await uow.session.execute(
        update(PoolResource)
        .where(PoolResource.service_id == service_id)
        .values(service_id=None, held_since=None)
        .execution_options(synchronize_session=False)
    )
    return values
