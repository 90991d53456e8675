"""Renewals ahead, the runway of the balance, and the journal's colors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from core.journal import rule
from core.journal.calendar import add_months
from core.journal.lifecycle import return_closes_on
from core.journal.models import LAPSED, PENDING, ConnectedService, ServiceStatus

FORECAST_DAYS = 30  # /balance lists the renewals of the next 30 days
WARNING_DAYS = 3  # a row turns red this many days before a renewal the balance can't pay
RUNWAY_HORIZON_DAYS = 366
WEEK_DAYS = 7  # "every renewal of the next 7 days": the low-balance alert's window


class Color(StrEnum):
    GREEN = "green"  # working
    YELLOW = "yellow"  # ordered / needs setup
    RED = "red"  # not working, or about to stop


@dataclass(frozen=True, slots=True)
class Renewal:
    on: date
    service_id: int
    catalog_code: str
    price: int
    overdue: bool = False  # suspended: renews as soon as the balance covers it


@dataclass(frozen=True, slots=True)
class Runway:
    short_on: date | None  # the first day the balance does not cover every renewal due by then
    shortfall: int  # the top-up that covers every renewal through `short_on`


def renewals(services: list[ConnectedService], today: date, days: int) -> list[Renewal]:
    """Auto-renewals due from `today` through `today + days`, in the order they will be charged."""
    last = today + timedelta(days=days)
    found: list[Renewal] = []
    for s in services:
        if not s.auto_renew:
            continue
        if s.status == ServiceStatus.SUSPENDED and today < return_closes_on(s):
            found.append(Renewal(today, s.id, s.catalog_code, s.price, overdue=True))
        if s.status != ServiceStatus.ACTIVE or s.ends_on is None:
            continue
        on = s.ends_on
        while on <= last:
            found.append(Renewal(max(on, today), s.id, s.catalog_code, s.price))
            on = add_months(on, s.period_months, s.anchor_day)
    return sorted(found, key=lambda r: (r.on, r.service_id))


def runway(balance: int, ahead: list[Renewal]) -> Runway:
    due_by_day: dict[date, int] = {}
    for renewal in ahead:
        due_by_day[renewal.on] = due_by_day.get(renewal.on, 0) + renewal.price
    due = 0
    for day in sorted(due_by_day):
        due += due_by_day[day]
        if not rule.covers_all(balance, due):  # what the renewal job will find
            return Runway(day, due - balance)
    return Runway(None, 0)


def to_keep(balance: int, ahead: list[Renewal], renewal: Renewal) -> int:
    """The top-up that lets `renewal` go through: the renewals of working services charged
    before it (in charge order) and its own price, less the balance. Suspended services take
    none of it: they renew only once the balance covers them."""
    if renewal.overdue:
        return max(0, renewal.price - balance)
    due = sum(
        r.price
        for r in ahead
        if not r.overdue and (r.on, r.service_id) <= (renewal.on, renewal.service_id)
    )
    return max(0, due - balance)


def week_shortfall(balance: int, ahead: list[Renewal], today: date) -> int:
    """The top-up that covers every renewal of the next WEEK_DAYS days (suspended ones too)."""
    last = today + timedelta(days=WEEK_DAYS)
    return max(0, sum(r.price for r in ahead if r.on <= last) - balance)


@dataclass(frozen=True, slots=True)
class Needs:
    """The two figures a shop owner chooses between, the same in the alerts, /balance and the
    top-up screen: what keeps the first renewal the balance does not cover, and what covers
    every renewal of the next week."""

    first: Renewal | None  # the first renewal the balance does not cover
    keep: int  # the top-up that keeps that service
    week: int  # the top-up that covers every renewal of the next WEEK_DAYS days


def needs(balance: int, ahead: list[Renewal], today: date) -> Needs:
    first = next((r for r in ahead if to_keep(balance, ahead, r) > 0), None)
    keep = to_keep(balance, ahead, first) if first is not None else 0
    return Needs(first, keep, week_shortfall(balance, ahead, today))


def at_risk(service: ConnectedService, run: Runway, today: date) -> bool:
    """Auto-renew is on but the balance will not cover the next renewal."""
    if not service.auto_renew or service.status != ServiceStatus.ACTIVE or run.short_on is None:
        return False
    return max(service.ends_on, today) >= run.short_on


def color(service: ConnectedService, run: Runway, today: date) -> Color:
    if service.status in PENDING:
        return Color.YELLOW
    if service.status != ServiceStatus.ACTIVE:
        return Color.RED  # suspended, disconnected or closed: not working
    warning = service.ends_on is not None and service.ends_on <= today + timedelta(
        days=WARNING_DAYS
    )
    return Color.RED if warning and at_risk(service, run, today) else Color.GREEN


def end_marked(service: ConnectedService, run: Runway, today: date) -> bool:
    """The end date is shown red when the service will not renew at it."""
    if service.status in LAPSED:
        return True
    if service.status != ServiceStatus.ACTIVE:
        return False
    return not service.auto_renew or at_risk(service, run, today)


def scheduled(
    service_id: int, code: str, price: int, months: int, today: date, days: int
) -> list[Renewal]:
    """The renewals of a service whose period starts `today` (being ordered or returned: it has
    no such row yet), through `today + days`."""
    last = today + timedelta(days=days)
    on = add_months(today, months, today.day)
    found: list[Renewal] = []
    while on <= last:
        found.append(Renewal(on, service_id, code, price))
        on = add_months(on, months, today.day)
    return found


def _working(ahead: list[Renewal]) -> list[Renewal]:
    """Without suspended services: they wait for money and hold up no one else's renewal."""
    return [r for r in ahead if not r.overdue]


@dataclass(frozen=True, slots=True)
class Impact:
    """What a charge (ordering or returning a service) does to the renewals ahead, shown before
    it is confirmed: the balance after it, the service's own next renewal, how far the balance
    then reaches, and which renewals of the next FORECAST_DAYS days it leaves uncovered."""

    balance: int
    after: int
    period_ends: date | None  # the end of the period the charge pays; None: starts at set-up
    auto_renew: bool  # whether the service renews at `period_ends`
    # The first day the balance falls short of working services' renewals (None: a year+).
    covered_before: date | None
    covered_after: date | None  # the same after the charge
    newly_short: tuple[Renewal, ...]  # covered now, not after the charge (the next 30 days)


def impact(
    balance: int,
    ahead: list[Renewal],
    charge: int,
    today: date,
    own: list[Renewal],
    replaces: int | None = None,
    period_ends: date | None = None,
) -> Impact:
    """`ahead`: the renewals as they stand (RUNWAY_HORIZON_DAYS); `own`: the charged service's
    renewals after the charge (none with auto-renew off); `replaces`: its id when it is already
    among `ahead` (a return); `period_ends`: the end of the period the charge pays for."""
    after = balance - charge
    then = sorted(
        [*(r for r in ahead if r.service_id != replaces), *own], key=lambda r: (r.on, r.service_id)
    )
    soon = today + timedelta(days=FORECAST_DAYS)
    before = set(ahead)
    newly_short = tuple(
        r
        for r in then
        if r.on <= soon
        and to_keep(after, then, r) > 0
        and (r not in before or to_keep(balance, ahead, r) == 0)
    )
    return Impact(
        balance=balance,
        after=after,
        period_ends=period_ends,
        auto_renew=bool(own),
        covered_before=runway(balance, _working(ahead)).short_on,
        covered_after=runway(after, _working(then)).short_on,
        newly_short=newly_short,
    )
