"""What happens to connected services as days pass, in the account's time zone.

The renewals job calls `process_due_services(uow, now)`; every function here is idempotent: a
second run at the same moment finds nothing to do, a renewal is charged once per period
(idempotency key = service + period start), and every change happens under the account's money
lock, so a run in two processes at once or next to a top-up cannot lose an update. After
downtime the missed days are replayed one by one, in order (`advance_account`). Every transition
members must hear about is written to the outbox in the same transaction (`core.journal.notices`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.journal import notices
from core.journal.books import Batch, Books, ServiceState, books_of, renewal_key, state_columns
from core.journal.calendar import add_months, local_today, start_of_day
from core.journal.models import LAPSED, OPEN, ConnectedService, ServiceStatus
from core.ledger.service import balance_of, lock_balance, try_lock_balance

log = logging.getLogger(__name__)

RETURN_WINDOW = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Transition:
    """One change the lifecycle made; the notices in the outbox are built from these."""

    account_id: int
    service_id: int
    action: str  # the audit action, e.g. "service.renewed"
    catalog_code: str
    charged: int = 0  # kopecks taken from the balance
    version: int = 0  # the service's version after the change: one notice per transition
    details: dict[str, Any] = field(default_factory=dict)  # JSON values for the notice


def return_closes_on(service: ConnectedService) -> date:
    """The local day the return window is over (the service is closed at its start)."""
    assert service.lapsed_on is not None
    return service.lapsed_on + RETURN_WINDOW


def return_deadline(service: ConnectedService, timezone: str) -> datetime:
    return start_of_day(return_closes_on(service), timezone).astimezone(UTC)


def last_return_day(lapsed_on: date) -> date:
    """The last local day a service that stopped on `lapsed_on` can still be returned."""
    return lapsed_on + RETURN_WINDOW - timedelta(days=1)


def return_days_left(service: ConnectedService, today: date) -> int:
    """Whole local days left to return a lapsed service (0: the window has closed)."""
    if service.status not in LAPSED or service.lapsed_on is None:
        return 0
    return max(0, (return_closes_on(service) - today).days)


Service = ConnectedService | ServiceState  # the state machine takes either


def audit(
    uow: UnitOfWork | Books,
    service: Service,
    action: str,
    actor_id: int | None,
    before: dict,
    after: dict,
    reason: str | None = None,
) -> None:
    books_of(uow).audit(service, action, actor_id, before, after, reason)


def snapshot(service: Service) -> dict:
    return {
        "status": str(service.status),
        "ends_on": service.ends_on.isoformat() if service.ends_on else None,
    }


def start_period(service: Service, first_day: date, *, new_anchor: bool) -> None:
    if new_anchor or service.anchor_day is None:
        service.anchor_day = first_day.day
    service.started_on = first_day
    service.ends_on = add_months(first_day, service.period_months, service.anchor_day)
    service.status = ServiceStatus.ACTIVE
    service.version += 1


async def activate(
    books: UnitOfWork | Books, service: Service, today: date, actor_id: int | None
) -> Transition:
    """ordered / needs_setup → active: the first (already paid) period starts today."""
    before = snapshot(service)
    start_period(service, today, new_anchor=True)
    after = {**snapshot(service), "started_on": today.isoformat()}
    audit(books, service, "service.activated", actor_id, before, after)
    return Transition(
        service.account_id,
        service.id,
        "service.activated",
        service.catalog_code,
        version=service.version,
    )


async def renew(
    books: UnitOfWork | Books,
    service: Service,
    period_start: date,
    *,
    action: str = "service.renewed",
    actor_id: int | None = None,
) -> Transition | None:
    """Charges one period starting `period_start` and extends; None if the balance is short.

    The caller holds the account's lock (`lock_balance`), so the balance read here stays true.
    """
    charge = await books_of(books).charge(service, period_start, actor_id)
    if charge is None:
        return None
    before = snapshot(service)
    # A regular renewal keeps the billing day; one after a gap starts a new cycle.
    start_period(service, period_start, new_anchor=action != "service.renewed")
    after = {
        **snapshot(service),
        "started_on": period_start.isoformat(),
        "charged": charge.charged,
        "balance": charge.balance_after,
    }
    audit(books, service, action, actor_id, before, after)
    details = {
        "started_on": period_start.isoformat(),
        "ends_on": service.ends_on.isoformat(),
        "price": service.price,
    }
    return Transition(
        service.account_id,
        service.id,
        action,
        service.catalog_code,
        charge.charged,
        service.version,
        details,
    )


def lapse(
    service: Service, status: ServiceStatus, on: date, books: UnitOfWork | Books, reason: str
) -> Transition:
    """active → suspended / disconnected, keeping its resources for the return window."""
    before = snapshot(service)
    service.status = status
    service.lapsed_on = on
    service.version += 1
    action = f"service.{status}"
    after = {**snapshot(service), "return_until": (on + RETURN_WINDOW).isoformat()}
    audit(books, service, action, None, before, after, reason=reason)
    details = {
        "lapsed_on": on.isoformat(),
        "return_by": last_return_day(on).isoformat(),
        "price": service.price,
    }
    return Transition(
        service.account_id,
        service.id,
        action,
        service.catalog_code,
        version=service.version,
        details=details,
    )


async def close(
    books: UnitOfWork | Books,
    service: Service,
    actor_id: int | None = None,
    *,
    action: str = "service.closed",
    **details: object,
) -> Transition:
    """The return window passed (or an unstarted order was cancelled): resources go back."""
    books = books_of(books)
    before = snapshot(service)
    released = await books.release(service)
    service.status = ServiceStatus.CLOSED
    service.closed_at = books.now()
    service.version += 1
    after = {"status": "closed", "released": released, **details}
    audit(books, service, action, actor_id, before, after)
    return Transition(
        service.account_id,
        service.id,
        action,
        service.catalog_code,
        version=service.version,
        details={"released": len(released)},
    )


async def open_services(uow: UnitOfWork, account_id: int) -> list[ConnectedService]:
    """The account's services, freshly read (call after taking the lock), in renewal order."""
    services = await uow.session.scalars(
        select(ConnectedService)
        .where(ConnectedService.account_id == account_id, ConnectedService.status.in_(OPEN))
        .order_by(ConnectedService.id)
        .execution_options(populate_existing=True)
    )
    return in_renewal_order(list(services))


def in_renewal_order(services: list[ConnectedService]) -> list[ConnectedService]:
    return sorted(services, key=lambda s: (s.ends_on or s.lapsed_on or date.min, s.id))


async def advance(
    books: UnitOfWork | Books, service: Service, today: date, *, catching_up: bool = False
) -> list[Transition]:
    """Every transition due for one service by the local day `today`.

    `catching_up`: `today` is a missed day being replayed, not the real today — nothing starts
    a period on it (activations and renewals after a top-up happen on the real day only).
    """
    done: list[Transition] = []
    if service.status == ServiceStatus.ORDERED and not catching_up:
        done.append(await activate(books, service, today, None))
    while service.status == ServiceStatus.ACTIVE and service.ends_on <= today:
        end = service.ends_on
        if not service.auto_renew:
            done.append(lapse(service, ServiceStatus.DISCONNECTED, end, books, "auto-renew off"))
        elif (renewed := await renew(books, service, end)) is not None:
            done.append(renewed)
        else:
            done.append(lapse(service, ServiceStatus.SUSPENDED, end, books, "balance short"))
    if service.status in LAPSED and today >= return_closes_on(service):
        done.append(await close(books, service))
    elif service.status == ServiceStatus.SUSPENDED and service.auto_renew and not catching_up:
        resumed = await renew(books, service, today, action="service.resumed")
        if resumed is not None:
            done.append(resumed)
    return done


# Services read and written per round of statements in the job; bounds memory, not results.
CHUNK = 2_000


def _renewal_order():
    s = ConnectedService
    return func.coalesce(s.ends_on, s.lapsed_on, date.min), s.id


async def due_ids(uow: UnitOfWork, account_id: int, day: date, *, catching_up: bool) -> list[int]:
    """The account's services with a transition due by `day`, in renewal order (those due
    first get the money first); the others are left alone by `advance` anyway."""
    s = ConnectedService
    due = [
        and_(s.status == ServiceStatus.ACTIVE, s.ends_on <= day),
        and_(s.status.in_(LAPSED), s.lapsed_on <= day - RETURN_WINDOW),
    ]
    if not catching_up:
        due += [
            s.status == ServiceStatus.ORDERED,
            and_(s.status == ServiceStatus.SUSPENDED, s.auto_renew.is_(True)),
        ]
    rows = await uow.session.scalars(
        select(s.id).where(s.account_id == account_id, or_(*due)).order_by(*_renewal_order())
    )
    return list(rows)


async def missed_day(uow: UnitOfWork, account_id: int, today: date) -> date | None:
    """The earliest day before `today` on which a transition was due (the job did not run)."""
    s = ConnectedService
    ends, lapsed = (
        await uow.session.execute(
            select(
                func.min(case((s.status == ServiceStatus.ACTIVE, s.ends_on))),
                func.min(case((s.status.in_(LAPSED), s.lapsed_on))),
            ).where(
                s.account_id == account_id,
                or_(
                    and_(s.status == ServiceStatus.ACTIVE, s.ends_on < today),
                    and_(s.status.in_(LAPSED), s.lapsed_on < today - RETURN_WINDOW),
                ),
            )
        )
    ).one()
    days = [d for d in (ends, lapsed + RETURN_WINDOW if lapsed else None) if d is not None]
    return min(days, default=None)


async def read_states(uow: UnitOfWork, ids: list[int]) -> list[ServiceState]:
    rows = await uow.session.execute(select(*state_columns()).where(ConnectedService.id.in_(ids)))
    by_id = {row[0]: ServiceState(*row) for row in rows}
    return [by_id[i] for i in ids]


def _keys_to_look_up(service: ServiceState, day: date, catching_up: bool) -> list[str]:
    """The renewal keys `advance` may charge for this service on `day`."""
    keys = [renewal_key(service.id, service.ends_on)] if service.ends_on else []
    if not catching_up:
        keys.append(renewal_key(service.id, day))  # a resumed service starts a period today
    return keys


async def advance_day(batch: Batch, day: date, *, catching_up: bool = False) -> list[Transition]:
    """`advance` for every service of the batch's account with something due by `day`.

    The order of renewal is fixed before the first change, as one pass of the job over the
    account's services would see it; CHUNK services at a time are read, advanced in memory and
    written back in a few statements (`Batch.flush`).
    """
    uow = batch.uow
    ids = await due_ids(uow, batch.account_id, day, catching_up=catching_up)
    done: list[Transition] = []
    for start in range(0, len(ids), CHUNK):
        services = await read_states(uow, ids[start : start + CHUNK])
        batch.track(services)
        await batch.look_up(k for s in services for k in _keys_to_look_up(s, day, catching_up))
        for service in services:
            done += await advance(batch, service, day, catching_up=catching_up)
        await batch.flush()
    return done


async def advance_account(
    uow: UnitOfWork, account_id: int, now: datetime, *, actor_id: int | None = None
) -> list[Transition]:
    """Runs every due transition of one account; the caller holds its lock and commits.

    Missed days are replayed in order, each once: after three days of downtime, the renewals of
    day 1 are charged before those of day 2, as if the job had run every day — so a short
    balance goes to the renewals that were due first. The notices of the transitions go to the
    outbox in this same transaction (not to `actor_id`, who is answered directly).
    """
    account = await uow.session.get(Account, account_id)
    today = local_today(now, account.timezone)
    batch = Batch(uow, account_id, await balance_of(uow, account_id))
    done: list[Transition] = []
    replayed = date.min
    while (day := await missed_day(uow, account_id, today)) is not None:
        if day <= replayed:  # every due transition of a day moves its service past that day
            raise RuntimeError(f"account {account_id}: {day} still due after it was replayed")
        done += await advance_day(batch, day, catching_up=True)
        replayed = day
    done += await advance_day(batch, today)
    await _refresh_loaded(uow, account_id)
    await notices.announce(uow, account, done, exclude_member_id=actor_id)
    return done


async def _refresh_loaded(uow: UnitOfWork, account_id: int) -> None:
    """ORM objects of the account's services the session already held are stale now."""
    loaded = [
        o
        for o in uow.session.identity_map.values()
        if isinstance(o, ConnectedService) and o.account_id == account_id
    ]
    for service in loaded:
        await uow.session.refresh(service)


async def process_account(
    uow: UnitOfWork, account_id: int, now: datetime | None = None, *, skip_locked: bool = False
) -> list[Transition]:
    """One account's due transitions in one transaction.

    `skip_locked` (the job): if another process holds the account's money lock — its own
    renewals run, or a top-up that renews what it covers — leave the account to it.
    """
    if skip_locked:
        if await try_lock_balance(uow, account_id) is None:
            await uow.rollback()
            return []
    else:
        await lock_balance(uow, account_id)
    done = await advance_account(uow, account_id, now or uow.clock.now())
    await uow.commit()
    return done


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
                and_(s.status == ServiceStatus.ACTIVE, s.ends_on <= latest),
                and_(s.status == ServiceStatus.SUSPENDED, s.auto_renew.is_(True)),
                and_(s.status.in_(LAPSED), s.lapsed_on <= latest - RETURN_WINDOW),
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
    now = now or uow.clock.now()
    done: list[Transition] = []
    accounts = await due_accounts(uow, now)
    await uow.rollback()  # the reading transaction must not hold SQLite's write lock meanwhile
    for account_id in accounts:
        try:
            done += await process_account(uow, account_id, now, skip_locked=True)
        except Exception:
            # One broken account must not hold back the others; the next run retries it.
            log.exception("lifecycle failed for account %s", account_id)
            await uow.rollback()
    return done
