"""The renewal job: every account with something due, one transaction per account.

The scheduler runs `run_renewals` (registered in `core.jobs`). It is idempotent: a second run
at the same moment finds nothing to do, a renewal is charged once per period (idempotency key =
service + period start), and every change happens under the account's money lock, so a run in
two processes at once or next to a top-up cannot lose an update. After downtime the missed days
are replayed one by one, in order. Every transition members must hear about is written to the
outbox in the same transaction (`core.journal.notices`).

What is due is decided by `core.journal.rule`; `core.journal.sweep` applies it to a whole
account (runs of alike services set-based, the others through `core.journal.lifecycle`).
Imports go one way: renewals → sweep → lifecycle → rule.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select

from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.journal import sweep
from core.journal.lifecycle import Transition
from core.journal.models import LAPSED, ConnectedService, ServiceStatus
from core.journal.rule import period_over, window_over
from core.ledger.service import lock_balance, try_lock_balance

log = logging.getLogger(__name__)


async def run_renewals(uows: UnitOfWorkFactory) -> int:
    """The scheduled job: how many transitions it made."""
    async with uows() as uow:
        return await run_due_services(uow)


async def advance_account(
    uow: UnitOfWork, account_id: int, now: datetime, *, actor_id: int | None = None
) -> list[Transition]:
    """Runs every due transition of one account; the caller holds its lock and commits.

    Missed days are replayed in order, each once: after three days of downtime, the renewals of
    day 1 are charged before those of day 2, as if the job had run every day — so a short
    balance goes to the renewals that were due first. The notices of the transitions go to the
    outbox in this same transaction (not to `actor_id`, who is answered directly). How: see
    `core.journal.sweep`.
    """
    swept = await sweep.advance_account(uow, account_id, now, actor_id=actor_id)
    return swept.transitions


async def process_account(
    uow: UnitOfWork, account_id: int, now: datetime | None = None, *, skip_locked: bool = False
) -> list[Transition]:
    """One account's due transitions in one transaction.

    `skip_locked` (the job): if another process holds the account's money lock — its own
    renewals run, or a top-up that renews what it covers — leave the account to it.
    """
    swept = await _process_account(uow, account_id, now, skip_locked=skip_locked, keep=True)
    return swept.transitions


async def _process_account(
    uow: UnitOfWork, account_id: int, now: datetime | None, *, skip_locked: bool, keep: bool
) -> sweep.Swept:
    if skip_locked:
        if await try_lock_balance(uow, account_id) is None:
            await uow.rollback()
            return sweep.Swept([], 0)
    else:
        await lock_balance(uow, account_id)
    swept = await sweep.advance_account(uow, account_id, now or uow.clock.now(), keep=keep)
    await uow.commit()
    return swept


async def due_accounts(uow: UnitOfWork, now: datetime) -> list[int]:
    """Accounts that may have something due; the zone-exact check happens per account."""
    # No zone is ahead of UTC by more than 14 hours: UTC's date + 1 is late enough for all.
    latest = now.astimezone(UTC).date() + timedelta(days=1)
    s = ConnectedService
    rows = await uow.session.scalars(
        select(s.account_id)
        .where(
            or_(
                s.status == ServiceStatus.ORDERED,
                and_(s.status == ServiceStatus.ACTIVE, period_over(s.ends_on, latest)),
                # Whether the balance covers it is the account's pass to find out.
                and_(s.status == ServiceStatus.SUSPENDED, s.auto_renew.is_(True)),
                and_(s.status.in_(LAPSED), window_over(s.lapsed_on, latest)),
            )
        )
        .distinct()
        .order_by(s.account_id)
    )
    return list(rows)


async def process_due_services(uow: UnitOfWork, now: datetime | None = None) -> list[Transition]:
    """The renewal job: every account's due transitions, one transaction per account.

    Each account is claimed with its money lock (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
    has one writer): a second process running the job at the same moment skips the accounts the
    first one is working on and finds the rest already done.
    """
    done: list[Transition] = []
    async for swept in _each_due_account(uow, now, keep=True):
        done += swept.transitions
    return done


async def run_due_services(uow: UnitOfWork, now: datetime | None = None) -> int:
    """`process_due_services` for the scheduled job: returns how many transitions it made,
    without keeping the plain renewals in memory (a big account renews 100 000 at once)."""
    return sum([swept.count async for swept in _each_due_account(uow, now, keep=False)])


async def _each_due_account(
    uow: UnitOfWork, now: datetime | None, *, keep: bool
) -> AsyncIterator[sweep.Swept]:
    now = now or uow.clock.now()
    accounts = await due_accounts(uow, now)
    await uow.rollback()  # the reading transaction must not hold SQLite's write lock meanwhile
    for account_id in accounts:
        try:
            yield await _process_account(uow, account_id, now, skip_locked=True, keep=keep)
        except Exception:
            # One broken account must not hold back the others; the next run retries it.
            log.exception("lifecycle failed for account %s", account_id)
            await uow.rollback()
