"""Use cases of the services journal: view, order, auto-renew, return, disconnect, set up."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select

from core.accounts.models import Account
from core.audit.service import HistoryRow, subject_log
from core.db.uow import UnitOfWork
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.journal import forecast, lifecycle, notices, rule
from core.journal.calendar import add_months, local_today
from core.journal.catalog import CatalogItem, default_catalog
from core.journal.models import LAPSED, OPEN, PENDING, ConnectedService, ServiceStatus
from core.journal.resources import allocate, held_by
from core.ledger.models import EntryKind
from core.ledger.service import InsufficientFunds, balance_of, find_entry, lock_balance, post
from core.members.actor import Actor
from core.members.models import Member
from core.members.permissions import Perm

# The service being ordered has no id yet: on a day it shares with others it is charged last.
NEW_SERVICE_ID = 2**62
REQUEST_KEY = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
LOG_SIZE = 15
# Marking a service set up is an admin's job: managing services alone is not enough.
SETUP_PERMS = (Perm.SERVICES_MANAGE, Perm.USERS_MANAGE)


class CardAction(StrEnum):
    AUTO_RENEW_ON = "renew_on"
    AUTO_RENEW_OFF = "renew_off"
    RETURN = "return"
    DISCONNECT = "disconnect"
    MARK_SET_UP = "set_up"
    LOG = "log"


@dataclass(frozen=True, slots=True)
class ServiceRow:
    service: ConnectedService
    item: CatalogItem | None  # None if the code left the catalog
    color: forecast.Color
    end_marked: bool  # the end date is red: it will not renew
    return_days_left: int
    resources: list[str]


@dataclass(frozen=True, slots=True)
class Journal:
    rows: list[ServiceRow]
    balance: int
    can_order: bool


@dataclass(frozen=True, slots=True)
class ServiceCard:
    row: ServiceRow
    actions: tuple[CardAction, ...]
    return_deadline: datetime | None  # UTC; shown in the account's zone
    balance: int
    impact: forecast.Impact | None = None  # what returning it would do (return_quote only)


@dataclass(frozen=True, slots=True)
class Quote:
    item: CatalogItem
    balance: int
    impact: forecast.Impact  # what ordering it would do to the renewals ahead

    @property
    def after(self) -> int:
        return self.balance - self.item.price

    @property
    def shortfall(self) -> int:
        return max(0, self.item.price - self.balance)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of a charged action; `replayed`: a repeat that changed nothing."""

    service: ConnectedService
    balance: int
    amount: int  # kopecks charged (order, return) or refunded (disconnect)
    replayed: bool = False


def can_set_up(actor: Actor) -> bool:
    return all(actor.can(p) for p in SETUP_PERMS)


def catalog_item(code: str) -> CatalogItem:
    item = default_catalog().get(code)
    if item is None:
        raise NotFound("catalog_item_not_found", service=code[:24])
    return item


def prorated_refund(service: ConnectedService, today: date) -> int:
    """Unused whole days of the current period, in kopecks rounded down."""
    if service.status in PENDING:
        return service.price
    if service.status != ServiceStatus.ACTIVE or service.ends_on <= today:
        return 0
    total = (service.ends_on - service.started_on).days
    unused = min(total, (service.ends_on - today).days)
    return service.price * unused // total


def _today(uow: UnitOfWork, actor: Actor) -> date:
    return local_today(uow.clock.now(), actor.timezone)


async def _load(uow: UnitOfWork, actor: Actor, service_id: int) -> ConnectedService:
    """One of the actor's services, read fresh (after the lock, when one is taken)."""
    service = (
        await uow.session.scalars(
            select(ConnectedService)
            .where(ConnectedService.id == service_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if service is None or service.account_id != actor.account_id:
        raise NotFound("service_not_found")
    return service


async def _rows(
    uow: UnitOfWork, actor: Actor, services: list[ConnectedService], balance: int
) -> list[ServiceRow]:
    today = _today(uow, actor)
    open_services = [s for s in services if s.status in OPEN]
    ahead = forecast.renewals(open_services, today, forecast.RUNWAY_HORIZON_DAYS)
    run = forecast.runway(balance, ahead)
    held = await held_by(uow, [s.id for s in services])
    catalog = default_catalog()
    return [
        ServiceRow(
            service=s,
            item=catalog.get(s.catalog_code),
            color=forecast.color(s, run, today),
            end_marked=forecast.end_marked(s, run, today),
            return_days_left=lifecycle.return_days_left(s, today),
            resources=held.get(s.id, []),
        )
        for s in services
    ]


async def open_of(uow: UnitOfWork, account_id: int) -> list[ConnectedService]:
    return list(
        await uow.session.scalars(
            select(ConnectedService)
            .where(ConnectedService.account_id == account_id, ConnectedService.status.in_(OPEN))
            .order_by(ConnectedService.id)
        )
    )


async def journal(uow: UnitOfWork, actor: Actor) -> Journal:
    actor.require(Perm.SERVICES_VIEW)
    balance = await balance_of(uow, actor.account_id)
    services = await open_of(uow, actor.account_id)
    rows = await _rows(uow, actor, services, balance)
    return Journal(rows, balance, actor.can(Perm.SERVICES_MANAGE))


def _actions(actor: Actor, row: ServiceRow) -> tuple[CardAction, ...]:
    status = row.service.status
    actions: list[CardAction] = []
    if actor.can(Perm.SERVICES_MANAGE):
        if status in (*PENDING, ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
            on = row.service.auto_renew
            actions.append(CardAction.AUTO_RENEW_OFF if on else CardAction.AUTO_RENEW_ON)
        if status in LAPSED and row.return_days_left > 0:
            actions.append(CardAction.RETURN)
        if status in (*PENDING, ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
            actions.append(CardAction.DISCONNECT)
    if status in PENDING and can_set_up(actor):
        actions.append(CardAction.MARK_SET_UP)
    actions.append(CardAction.LOG)
    return tuple(actions)


async def service_card(uow: UnitOfWork, actor: Actor, service_id: int) -> ServiceCard:
    actor.require(Perm.SERVICES_VIEW)
    service = await _load(uow, actor, service_id)
    balance = await balance_of(uow, actor.account_id)
    others = [s for s in await open_of(uow, actor.account_id) if s.id != service.id]
    row = (await _rows(uow, actor, [service, *others], balance))[0]
    deadline = None
    if service.status in LAPSED:
        deadline = lifecycle.return_deadline(service, actor.timezone)
    return ServiceCard(row, _actions(actor, row), deadline, balance)


async def service_log(uow: UnitOfWork, actor: Actor, service_id: int) -> list[HistoryRow]:
    """The service's audit entries, newest first."""
    actor.require(Perm.SERVICES_VIEW)
    service = await _load(uow, actor, service_id)
    return await subject_log(uow, actor.account_id, "service", service.id, limit=LOG_SIZE)


async def catalog(uow: UnitOfWork, actor: Actor) -> tuple[tuple[CatalogItem, ...], int]:
    """What can be ordered, and the balance to pay with."""
    actor.require(Perm.SERVICES_MANAGE)
    return default_catalog().items, await balance_of(uow, actor.account_id)


async def _impact(
    uow: UnitOfWork,
    actor: Actor,
    balance: int,
    charged: ConnectedService | CatalogItem,
    service_id: int,
    starts_now: bool,
) -> forecast.Impact:
    """The renewals ahead with `charged` paid for and (when `starts_now`) its period started
    today, against the renewals as they stand; changes nothing."""
    today = _today(uow, actor)
    services = await open_of(uow, actor.account_id)
    ahead = forecast.renewals(services, today, forecast.RUNWAY_HORIZON_DAYS)
    ordered = isinstance(charged, CatalogItem)
    code = charged.code if ordered else charged.catalog_code
    months = charged.period_months
    own, ends = [], None
    if starts_now:
        ends = add_months(today, months, today.day)
        if ordered or charged.auto_renew:  # an order starts with auto-renew on
            horizon = forecast.RUNWAY_HORIZON_DAYS
            own = forecast.scheduled(service_id, code, charged.price, months, today, horizon)
    return forecast.impact(balance, ahead, charged.price, today, own, service_id, ends)


async def order_quote(uow: UnitOfWork, actor: Actor, code: str) -> Quote:
    """The order's confirmation: the price, the balance after it and what it does to the
    renewals ahead (a service without setup starts today; one that needs it, once set up)."""
    actor.require(Perm.SERVICES_MANAGE)
    actor.require_writable()
    item = catalog_item(code)
    balance = await balance_of(uow, actor.account_id)
    starts = not item.setup_needed
    return Quote(item, balance, await _impact(uow, actor, balance, item, NEW_SERVICE_ID, starts))


async def order_service(uow: UnitOfWork, actor: Actor, code: str, request_key: str) -> Outcome:
    """Charges the first period and connects the service (ordered, or needs_setup).

    `request_key` identifies one confirmation: pressing it twice orders once.
    """
    actor.require(Perm.SERVICES_MANAGE)
    actor.require_writable()
    item = catalog_item(code)
    if not REQUEST_KEY.match(request_key):
        raise InvalidInput("request_key")
    key = f"order:{request_key}"
    balance = await lock_balance(uow, actor.account_id)
    first = await find_entry(uow, actor.account_id, key)
    if first is not None:
        service = await _load(uow, actor, first.service_id)
        return Outcome(service, balance, -first.amount, replayed=True)
    if not rule.covers(balance, item.price):
        raise InsufficientFunds(price=item.price, balance=balance, shortfall=item.price - balance)
    service = ConnectedService(
        account_id=actor.account_id,
        catalog_code=item.code,
        channel=item.channel,
        status=ServiceStatus.NEEDS_SETUP if item.setup_needed else ServiceStatus.ORDERED,
        price=item.price,
        period_months=item.period_months,
        setup_needed=item.setup_needed,
        auto_renew=True,
        version=1,
        ordered_by=actor.member_id,
        ordered_at=uow.clock.now(),
    )
    uow.session.add(service)
    await uow.session.flush()
    await allocate(uow, default_catalog().pools, service.id, item.resources)
    posted = await post(
        uow,
        account_id=actor.account_id,
        kind=EntryKind.CHARGE,
        amount=-item.price,
        key=key,
        reason="service.order",
        note=item.code,
        service_id=service.id,
        actor_id=actor.member_id,
    )
    resources = (await held_by(uow, [service.id])).get(service.id, [])
    after = {
        "code": item.code,
        "status": str(service.status),
        "charged": item.price,
        "balance": posted.entry.balance_after,
        "resources": resources,
    }
    lifecycle.audit(uow, service, "service.ordered", actor.member_id, {}, after)
    await uow.commit()
    return Outcome(service, posted.entry.balance_after, item.price)


async def _locked(uow: UnitOfWork, actor: Actor, service_id: int) -> ConnectedService:
    await lock_balance(uow, actor.account_id)
    return await _load(uow, actor, service_id)


def _check_version(service: ConnectedService, version: int | None) -> None:
    """A button shown before the service changed must not act on its new state."""
    if version is not None and version != service.version:
        raise Conflict("service_changed")


async def set_auto_renew(
    uow: UnitOfWork, actor: Actor, service_id: int, on: bool
) -> ConnectedService:
    actor.require(Perm.SERVICES_MANAGE)
    actor.require_writable()
    service = await _locked(uow, actor, service_id)
    if service.status not in (*PENDING, ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
        raise InvalidInput("service_not_open")
    if service.auto_renew == on:
        return service  # a double tap: already so
    service.auto_renew = on
    before, after = {"auto_renew": not on}, {"auto_renew": on}
    lifecycle.audit(uow, service, "service.auto_renew_changed", actor.member_id, before, after)
    if on and service.status == ServiceStatus.SUSPENDED:
        # Waiting for money: if the balance already covers it, it renews right now.
        resumed = await lifecycle.advance(uow, service, _today(uow, actor))
        account = await uow.session.get(Account, actor.account_id)
        await notices.announce(uow, account, resumed, exclude_member_id=actor.member_id)
    await uow.commit()
    return service


async def return_quote(uow: UnitOfWork, actor: Actor, service_id: int) -> ServiceCard:
    actor.require(Perm.SERVICES_MANAGE)
    actor.require_writable()
    card = await service_card(uow, actor, service_id)
    if CardAction.RETURN not in card.actions:
        raise InvalidInput("not_returnable")
    service = card.row.service
    impact = await _impact(uow, actor, card.balance, service, service.id, starts_now=True)
    return dataclasses.replace(card, impact=impact)


async def return_service(
    uow: UnitOfWork, actor: Actor, service_id: int, version: int | None = None
) -> Outcome:
    """Suspended or disconnected → active within 14 days of its end, with the same resources;
    the price is charged and a new period starts today."""
    actor.require(Perm.SERVICES_MANAGE)
    actor.require_writable()
    service = await _locked(uow, actor, service_id)
    key = f"return:{service.id}:v{version or service.version}"
    first = await find_entry(uow, actor.account_id, key)
    if first is not None:
        balance = await balance_of(uow, actor.account_id)
        return Outcome(service, balance, -first.amount, replayed=True)
    _check_version(service, version)
    if service.status not in LAPSED:
        raise InvalidInput("not_returnable")
    now = uow.clock.now()
    deadline = lifecycle.return_deadline(service, actor.timezone)
    if now >= deadline:
        raise InvalidInput("return_window_closed", closed_on=lifecycle.return_closes_on(service))
    balance = await balance_of(uow, actor.account_id)
    if not rule.covers(balance, service.price):
        short = service.price - balance
        raise InsufficientFunds(price=service.price, balance=balance, shortfall=short)
    posted = await post(
        uow,
        account_id=actor.account_id,
        kind=EntryKind.CHARGE,
        amount=-service.price,
        key=key,
        reason="service.return",
        note=service.catalog_code,
        service_id=service.id,
        actor_id=actor.member_id,
    )
    before = lifecycle.snapshot(service)
    today = local_today(now, actor.timezone)
    lifecycle.start_period(service, today, new_anchor=True)
    after = {
        **lifecycle.snapshot(service),
        "started_on": today.isoformat(),
        "charged": service.price,
        "balance": posted.entry.balance_after,
    }
    lifecycle.audit(uow, service, "service.returned", actor.member_id, before, after)
    await _announce_return(uow, actor, service)
    await uow.commit()
    return Outcome(service, posted.entry.balance_after, service.price)


async def _announce_return(uow: UnitOfWork, actor: Actor, service: ConnectedService) -> None:
    """The other alert recipients hear who returned it; the member who did sees the card."""
    returned = lifecycle.Transition(
        service.account_id,
        service.id,
        notices.RETURNED,
        service.catalog_code,
        service.price,
        service.version,
        {"ends_on": service.ends_on.isoformat(), "price": service.price},
    )
    member = await uow.session.get(Member, actor.member_id)
    account = await uow.session.get(Account, actor.account_id)
    await notices.announce(
        uow,
        account,
        [returned],
        exclude_member_id=actor.member_id,
        actor_name=member.display_name if member else None,
    )


async def disconnect_quote(
    uow: UnitOfWork, actor: Actor, service_id: int
) -> tuple[ServiceCard, int]:
    """The card and the refund that disconnecting now would give."""
    actor.require(Perm.SERVICES_MANAGE)
    actor.require_writable()
    card = await service_card(uow, actor, service_id)
    if CardAction.DISCONNECT not in card.actions:
        raise InvalidInput("already_disconnected")
    return card, prorated_refund(card.row.service, _today(uow, actor))


async def disconnect_service(
    uow: UnitOfWork, actor: Actor, service_id: int, version: int | None = None
) -> Outcome:
    """Stops a service now. An unstarted order is cancelled and refunded in full; an active one
    refunds its unused whole days and can be returned within 14 days."""
    actor.require(Perm.SERVICES_MANAGE)
    actor.require_writable()
    service = await _locked(uow, actor, service_id)
    key = f"refund:{service.id}:v{version or service.version}"
    stopped = (ServiceStatus.DISCONNECTED, ServiceStatus.CLOSED)
    if version is not None and version != service.version and service.status in stopped:
        # A repeated press of the button that stopped it.
        first = await find_entry(uow, actor.account_id, key)
        balance = await balance_of(uow, actor.account_id)
        return Outcome(service, balance, first.amount if first else 0, replayed=True)
    _check_version(service, version)
    if service.status not in (*PENDING, ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED):
        raise InvalidInput("already_disconnected")
    today = _today(uow, actor)
    refund = prorated_refund(service, today)
    if refund > 0:
        await post(
            uow,
            account_id=actor.account_id,
            kind=EntryKind.REFUND,
            amount=refund,
            key=key,
            reason="service.refund",
            note=service.catalog_code,
            service_id=service.id,
            actor_id=actor.member_id,
        )
    if service.status in PENDING:
        await lifecycle.close(
            uow, service, actor.member_id, action="service.cancelled", refunded=refund
        )
    else:
        before = lifecycle.snapshot(service)
        if service.status == ServiceStatus.ACTIVE:
            service.lapsed_on = today
            service.ends_on = today
        service.status = ServiceStatus.DISCONNECTED
        service.version += 1
        after = {**lifecycle.snapshot(service), "refunded": refund}
        lifecycle.audit(uow, service, "service.disconnected", actor.member_id, before, after)
    balance = await balance_of(uow, actor.account_id)
    await uow.commit()
    return Outcome(service, balance, refund)


async def mark_set_up(uow: UnitOfWork, actor: Actor, service_id: int) -> ConnectedService:
    """An admin confirms the service is set up: it becomes active and its first period starts."""
    if not can_set_up(actor):
        missing = next(p for p in SETUP_PERMS if not actor.can(p))
        raise PermissionDenied(permission=missing.value)
    actor.require_writable()
    service = await _locked(uow, actor, service_id)
    if service.status not in PENDING:
        raise InvalidInput("not_pending")
    await lifecycle.activate(uow, service, _today(uow, actor), actor.member_id)
    await uow.commit()
    return service
