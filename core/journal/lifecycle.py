"""The services' state machine: one service's transitions, as the renewal rule decides them.

`advance` asks `core.journal.rule.decide` what is due for a service on a day and applies it
(activate, renew, lapse, close, resume), writing through a `Books` (at once, for members'
actions; batched, for the renewal job). Every function here is idempotent: a renewal is charged
once per period (idempotency key = service + period start), and the caller holds the account's
money lock. The job itself (which accounts, missed days, the set-based pass for runs of alike
services) is `core.journal.renewals` and `core.journal.sweep`; this module imports neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

from sqlalchemy import select

from core.db.uow import UnitOfWork
from core.journal.books import Books, ServiceState, books_of
from core.journal.calendar import add_months, start_of_day
from core.journal.models import LAPSED, OPEN, ConnectedService, ServiceStatus
from core.journal.rule import RETURN_WINDOW, Outcome, decide


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
) -> Transition:
    """Charges one period starting `period_start` and extends (the rule found it covered).

    The caller holds the account's lock (`lock_balance`), so the balance stays as decided.
    """
    charge = await books_of(books).charge(service, period_start, actor_id)
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
    """Every transition due for one service by the local day `today`, as the rule decides.

    `catching_up`: `today` is a missed day being replayed, not the real today — nothing starts
    a period on it (activations and renewals after a top-up happen on the real day only).
    """
    books = books_of(books)
    done: list[Transition] = []
    while True:
        outcome = decide(
            service.status,
            service.price,
            service.auto_renew,
            await books.available(service.account_id),
            today,
            ends_on=service.ends_on,
            lapsed_on=service.lapsed_on,
            catching_up=catching_up,
        )
        if outcome == Outcome.KEEP:
            return done
        done.append(await _apply(books, service, outcome, today))


async def _apply(books: Books, service: Service, outcome: Outcome, today: date) -> Transition:
    end = service.ends_on
    if outcome == Outcome.ACTIVATE:
        return await activate(books, service, today, None)
    if outcome == Outcome.RENEW:
        return await renew(books, service, end)
    if outcome == Outcome.SUSPEND:
        return lapse(service, ServiceStatus.SUSPENDED, end, books, "balance short")
    if outcome == Outcome.DISCONNECT:
        return lapse(service, ServiceStatus.DISCONNECTED, end, books, "auto-renew off")
    if outcome == Outcome.RESUME:
        return await renew(books, service, today, action="service.resumed")
    assert outcome == Outcome.CLOSE, outcome
    return await close(books, service)
