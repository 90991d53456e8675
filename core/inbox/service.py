"""The webhook inbox: an update is written here before Telegram is answered 2xx, then handled
once under a lease, like the outbox's messages (core/notifications/outbox.py).

The update id is the row's key: a redelivery adds nothing. The process that wrote a row holds
its lease and handles it at once; while it works it keeps extending the lease. A process that
dies leaves its rows to the others when their leases lapse (`claim_due`); a redelivery of such
a row takes it over at once (`accept`). A row is done (handled or failed) only when its handling
finished: "seen" means handled, never merely begun.

PostgreSQL takes disjoint batches with FOR UPDATE SKIP LOCKED; SQLite has one writer, and the
compare-and-set on the lease makes a second claim of the same row a no-op on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, delete, func, null, or_, select, update

from core.db.sql import insert_ignoring_duplicates, lease_due
from core.db.uow import UnitOfWork
from core.inbox.models import InboxStatus, InboxUpdate

# A row whose handling was begun this many times (each time by a process that died or lost
# its lease meanwhile) is given up as failed: an update that kills its process is not retried
# forever.
MAX_ATTEMPTS = 5


class Accepted(StrEnum):
    NEW = "new"  # written now; this process holds it
    TAKEN = "taken"  # a redelivery of a row whose lease lapsed: this process holds it now
    DUPLICATE = "duplicate"  # done already, or being handled under a live lease


def update_kind(update: dict[str, Any]) -> str:
    """The update's type ("message", "callback_query", …): its one field besides the id."""
    return next((key for key in update if key != "update_id"), "unknown")[:40]


def _due(now: datetime):
    return and_(
        InboxUpdate.status == InboxStatus.PENDING,
        or_(InboxUpdate.lease_until.is_(None), InboxUpdate.lease_until < now),
    )


async def accept(uow: UnitOfWork, raw: dict[str, Any], *, owner: str, lease: timedelta) -> Accepted:
    """Writes the update leased to `owner` and commits, before Telegram is answered.

    A repeated update id writes nothing: if its row is still pending under a lapsed lease (its
    process died) `owner` takes it over, otherwise it is a duplicate.
    """
    now = uow.clock.now()
    update_id = int(raw["update_id"])
    inserted = await uow.session.execute(
        insert_ignoring_duplicates(uow, InboxUpdate)
        .values(
            update_id=update_id,
            kind=update_kind(raw),
            payload=raw,
            status=InboxStatus.PENDING.value,
            attempts=1,
            lease_owner=owner,
            lease_until=now + lease,
            received_at=now,
        )
        .returning(InboxUpdate.update_id)
    )
    if inserted.first() is not None:
        await uow.commit()
        return Accepted.NEW
    taken = await uow.session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.update_id == update_id,
            _due(now),
            InboxUpdate.attempts < MAX_ATTEMPTS,
        )
        .values(lease_owner=owner, lease_until=now + lease, attempts=InboxUpdate.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    await uow.commit()
    return Accepted.TAKEN if taken.rowcount == 1 else Accepted.DUPLICATE


async def claim_due(
    uow: UnitOfWork, *, owner: str, limit: int, lease: timedelta
) -> list[InboxUpdate]:
    """Leases up to `limit` pending updates nobody holds (their process died) to `owner`, oldest
    first, and commits. One begun `MAX_ATTEMPTS` times already is marked failed instead."""
    if limit <= 0:
        return []
    now = uow.clock.now()
    claimed = await lease_due(
        uow,
        InboxUpdate,
        InboxUpdate.update_id,
        _due(now),
        owner=owner,
        until=now + lease,
        limit=limit,
        also={"attempts": InboxUpdate.attempts + 1},
        held_if=InboxUpdate.status == InboxStatus.PENDING,
        rows=True,
    )
    worn = [row.update_id for row in claimed if row.attempts > MAX_ATTEMPTS]
    if worn:
        await _finish(uow, worn, owner, InboxStatus.FAILED, f"begun {MAX_ATTEMPTS} times")
    await uow.commit()
    return [row for row in claimed if row.update_id not in worn]


async def _finish(
    uow: UnitOfWork, update_ids: Sequence[int], owner: str, status: InboxStatus, error: str | None
) -> int:
    result = await uow.session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.update_id.in_(update_ids),
            InboxUpdate.lease_owner == owner,
            InboxUpdate.status == InboxStatus.PENDING,
        )
        .values(
            status=status.value,
            done_at=uow.clock.now(),
            payload=null(),  # what members wrote is not kept once handled
            lease_owner=None,
            lease_until=None,
            last_error=(error or None) and error[:500],
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def finish(uow: UnitOfWork, update_id: int, owner: str, *, error: str | None = None) -> bool:
    """Marks a leased update handled (or failed, with `error`) and commits. False when `owner`
    no longer holds it (its lease lapsed and another process took it)."""
    status = InboxStatus.FAILED if error is not None else InboxStatus.HANDLED
    changed = await _finish(uow, [update_id], owner, status, error)
    await uow.commit()
    return changed == 1


async def extend(uow: UnitOfWork, update_ids: Iterable[int], owner: str, lease: timedelta) -> int:
    """Keeps the leases of the updates `owner` is still working on from lapsing; commits."""
    ids = list(update_ids)
    if not ids:
        return 0
    result = await uow.session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.update_id.in_(ids),
            InboxUpdate.lease_owner == owner,
            InboxUpdate.status == InboxStatus.PENDING,
        )
        .values(lease_until=uow.clock.now() + lease)
        .execution_options(synchronize_session=False)
    )
    await uow.commit()
    return result.rowcount or 0


async def release(uow: UnitOfWork, update_ids: Iterable[int], owner: str) -> None:
    """Gives leased updates back unhandled (a stopping process): others take them at once."""
    ids = list(update_ids)
    if not ids:
        return
    await uow.session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.update_id.in_(ids),
            InboxUpdate.lease_owner == owner,
            InboxUpdate.status == InboxStatus.PENDING,
        )
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    await uow.commit()


async def pending_count(uow: UnitOfWork) -> int:
    return await uow.session.scalar(
        select(func.count())
        .select_from(InboxUpdate)
        .where(InboxUpdate.status == InboxStatus.PENDING)
    )


async def purge_handled(uow: UnitOfWork, *, before: datetime, limit: int) -> int:
    """Deletes up to `limit` done rows (handled or failed) finished before `before` and commits;
    returns how many went (the retention job's batch delete, see core/retention.py). Keep them
    at least a day: Telegram redelivers an update for up to 24 hours, and a purged id is new
    again.
    """
    oldest = (
        select(InboxUpdate.update_id)
        .where(InboxUpdate.status != InboxStatus.PENDING, InboxUpdate.done_at < before)
        .order_by(InboxUpdate.done_at)
        .limit(limit)
    )
    result = await uow.session.execute(
        delete(InboxUpdate)
        .where(InboxUpdate.update_id.in_(oldest.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    await uow.commit()
    return result.rowcount or 0
