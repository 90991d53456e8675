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
