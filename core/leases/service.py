"""Taking and keeping a lease: one row per name, one conditional UPDATE (or the first INSERT).

Works on both databases and through a transaction-mode pooler (no session state, no advisory
lock held across transactions): PostgreSQL's row lock makes two takers of an expired lease wait
for each other, and the second then finds it taken; SQLite's write lock does the same."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update

from core.db.sql import insert_ignoring_duplicates
from core.db.uow import UnitOfWork
from core.leases.models import Lease


async def hold(uow: UnitOfWork, name: str, holder: str, ttl: timedelta) -> bool:
    """Takes the lease, or keeps it for another `ttl`, unless someone else holds it; commits.
    True while `holder` holds it."""
    now = uow.clock.now()
    result = await uow.session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    held = result.rowcount == 1
    if not held:  # taken by another, or never written yet
        insert = insert_ignoring_duplicates(uow, Lease).values(
            name=name, holder=holder, expires_at=now + ttl
        )
        held = (await uow.session.execute(insert)).rowcount == 1
    await uow.commit()
    return held
