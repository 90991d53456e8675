"""What happens to connected services as days pass, in the account's time zone.

The renewals job calls `run_due_services(uow, now)`; every function here is idempotent: a
second run at the same moment finds nothing to do, a renewal is charged once per period
(idempotency key = service + period start), and every change happens under the account's money
lock, so a run in two processes at once or next to a top-up cannot lose an update. After
downtime the missed days are replayed one by one, in order (`advance_account`). Every transition
members must hear about is written to the outbox in the same transaction (`core.journal.notices`).
The rules are applied one service at a time here; `core.journal.sweep` applies them to a whole
account with a few statements per run of alike services, writing the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, or_, select

from core.db.uow import UnitOfWork
from core.journal.books import Books, ServiceState, books_of
from core.journal.calendar import add_months, start_of_day
from core.journal.models import LAPSED, OPEN, ConnectedService, ServiceStatus
from core.ledger.service import lock_balance, try_lock_balance

if TYPE_CHECKING:
    from core.journal.sweep import Swept

log = logging.getLogger(__name__)

RETURN_WINDOW = timedelta(days=14)


class Transition(NamedTuple):
    """One change the lifecycle made; the notices in the outbox are built from these.

    A named tuple rather than a frozen dataclass: a job run over a big account makes one per
    service, and a tuple is built several times faster.
    """

    account_id: int
    service_id: int
    action: str  # the audit action, e.g. "service.renewed"
    catalog_code: str
    charged: int = 0  # kopecks taken from the balance
    version: int = 0  # the service's version after the change: one notice per transition
    details: Mapping[str, Any] = MappingProxyType({})  # JSON values for the notice (read-only)


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


def _sweep():
    from core.journal import sweep  # it builds on this module, so it is imported when used

    return sweep


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
    swept = await _sweep().advance_account(uow, account_id, now, actor_id=actor_id)
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
) -> Swept:
    sweep = _sweep()
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
    done: list[Transition] = []
    async for swept in _each_due_account(uow, now, keep=True):
        done += swept.transitions
    return done


async def run_due_services(uow: UnitOfWork, now: datetime | None = None) -> int:
    """`process_due_services` for the scheduled job: returns how many transitions it made,
    without keeping the plain renewals in memory (a big account renews 100 000 at once)."""
    return sum([swept.count async for swept in _each_due_account(uow, now, keep=False)])


async def _each_due_account(uow: UnitOfWork, now: datetime | None, *, keep: bool):
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
