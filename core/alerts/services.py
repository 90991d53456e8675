"""Alerts about the services journal: renewal warnings, low balance, closing return windows.

Each is computed from the account's state on its local day and written to the outbox with a key
naming the state it reports, so a run every few minutes adds nothing until the state changes.
A run that missed days sends the alert that is still true, never a stale one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.journal import forecast, lifecycle
from core.journal.models import LAPSED, ConnectedService, ServiceStatus
from core.journal.notices import recipients_for
from core.ledger.service import balance_of
from core.notifications.outbox import Recipient, enqueue, release_time

WARNING_DAYS = (3, 1)  # renewal warnings this many days before a service's end date
RETURN_WARNING_DAYS = 3  # "the return window closes in 3 days"
LOW_BALANCE_DAYS = forecast.WEEK_DAYS  # the balance must cover the renewals of a week ahead
AT_RISK_SHOWN = 10

WARNING = "service.warning"
RETURN_CLOSING = "service.return_closing"
LOW_BALANCE = "balance.low"


def warning_due(days_left: int) -> int | None:
    """Which warning (3 or 1 days before) is due with `days_left` to the end date.

    On its day a warning is due; a run that missed that day sends the nearest one still ahead
    (2 days left → the 3-day one). With no day left the renewal itself has happened.
    """
    ahead = [d for d in WARNING_DAYS if d >= days_left]
    if days_left < 1 or not ahead:
        return None
    return min(ahead)


@dataclass(frozen=True, slots=True)
class RenewalWarning:
    service: ConnectedService
    days_before: int  # 3 or 1: which warning this is
    days_left: int
    balance: int
    keep: int  # the top-up that keeps this service (`forecast.to_keep`)
    week: int  # the top-up that covers every renewal of the next week

    @property
    def shortfall(self) -> int:
        return self.keep if self.service.auto_renew else 0

    @property
    def event_key(self) -> str:
        s = self.service
        return f"{WARNING}:{s.id}:{s.ends_on.isoformat()}:{self.days_before}"

    def params(self) -> dict[str, Any]:
        s = self.service
        return {
            "service_id": s.id,
            "code": s.catalog_code,
            "ends_on": s.ends_on.isoformat(),
            "days_left": self.days_left,
            "price": s.price,
            "auto_renew": s.auto_renew,
            "balance": self.balance,
            "shortfall": self.shortfall,  # keeps this service
            "week": self.week,  # covers every renewal of the next week
            "week_days": forecast.WEEK_DAYS,
        }


def renewal_warnings(
    services: list[ConnectedService], balance: int, today: date
) -> list[RenewalWarning]:
    ahead = forecast.renewals(services, today, forecast.WEEK_DAYS)
    week = forecast.week_shortfall(balance, ahead, today)
    found = []
    for s in services:
        if s.status != ServiceStatus.ACTIVE or s.ends_on is None:
            continue
        days_left = (s.ends_on - today).days
        due = warning_due(days_left)
        if due is None:
            continue
        # Day by day as the lifecycle charges them; what is due earlier is paid first.
        renewal = forecast.Renewal(s.ends_on, s.id, s.catalog_code, s.price)
        keep = forecast.to_keep(balance, ahead, renewal)
        found.append(RenewalWarning(s, due, days_left, balance, keep, week))
    return found


@dataclass(frozen=True, slots=True)
class ReturnClosing:
    service: ConnectedService
    days_left: int
    balance: int

    @property
    def event_key(self) -> str:
        s = self.service
        return f"{RETURN_CLOSING}:{s.id}:{s.lapsed_on.isoformat()}"

    def params(self) -> dict[str, Any]:
        s = self.service
        return {
            "service_id": s.id,
            "code": s.catalog_code,
            "status": str(s.status),
            "lapsed_on": s.lapsed_on.isoformat(),
            "return_by": lifecycle.last_return_day(s.lapsed_on).isoformat(),
            "days_left": self.days_left,
            "price": s.price,
            "balance": self.balance,
        }


def closing_returns(
    services: list[ConnectedService], balance: int, today: date
) -> list[ReturnClosing]:
    found = []
    for s in services:
        if s.status not in LAPSED or s.lapsed_on is None:
            continue
        left = lifecycle.return_days_left(s, today)
        if 0 < left <= RETURN_WARNING_DAYS:
            found.append(ReturnClosing(s, left, balance))
    return found


@dataclass(frozen=True, slots=True)
class LowBalance:
    account_id: int
    today: date
    balance: int
    ahead: list[forecast.Renewal]  # every renewal of the window, in charge order
    short_on: date  # the first day the balance does not cover every renewal due by then
    episode: int  # which shortage of the account this is (`Account.low_balance_episode`)

    @property
    def due(self) -> int:
        return sum(r.price for r in self.ahead)

    @property
    def shortfall(self) -> int:
        return self.due - self.balance

    @property
    def at_risk(self) -> list[forecast.Renewal]:
        return [r for r in self.ahead if r.on >= self.short_on]

    @property
    def needs(self) -> forecast.Needs:
        return forecast.needs(self.balance, self.ahead, self.today)

    @property
    def event_key(self) -> str:
        """The shortage: one alert for as long as the balance stays short — also when those
        renewals fail and wait as suspended services. Once a run finds the week covered, the
        next shortage is a new episode and is sent again (on whatever date it falls)."""
        return f"{LOW_BALANCE}:{self.account_id}:{self.episode}"

    def params(self) -> dict[str, Any]:
        covered_until = self.short_on - timedelta(days=1)
        needs = self.needs
        first = needs.first
        return {
            "keep": needs.keep,
            "keep_code": first.catalog_code if first is not None else None,
            "keep_on": first.on.isoformat() if first is not None else None,
            "balance": self.balance,
            "due": self.due,
            "shortfall": self.shortfall,
            "days": LOW_BALANCE_DAYS,
            "short_on": self.short_on.isoformat(),
            "covered_until": covered_until.isoformat() if self.short_on > self.today else None,
            "at_risk": [
                {
                    "service_id": r.service_id,
                    "code": r.catalog_code,
                    "on": r.on.isoformat(),
                    "price": r.price,
                    "overdue": r.overdue,
                }
                for r in self.at_risk[:AT_RISK_SHOWN]
            ],
            "more": max(0, len(self.at_risk) - AT_RISK_SHOWN),
        }


def low_balance(
    account_id: int,
    services: list[ConnectedService],
    balance: int,
    today: date,
    episode: int = 0,
) -> LowBalance | None:
    """The balance no longer covers the renewals due in the next LOW_BALANCE_DAYS days."""
    ahead = forecast.renewals(services, today, LOW_BALANCE_DAYS)
    run = forecast.runway(balance, ahead)
    if run.short_on is None:
        return None
    return LowBalance(account_id, today, balance, ahead, run.short_on, episode)


def shortage_episode(account: Account, short: bool) -> int:
    """Opens a new episode when a shortage begins, closes it when the balance covers the week
    again; returns the current one. The caller holds the account's money lock."""
    if short and not account.low_balance_open:
        account.low_balance_episode += 1
        account.low_balance_open = True
    elif not short and account.low_balance_open:
        account.low_balance_open = False
    return account.low_balance_episode


async def _put(
    uow: UnitOfWork,
    account: Account,
    recipients: list[Recipient],
    kind: str,
    key: str,
    params: dict[str, Any],
) -> int:
    return await enqueue(
        uow, account=account, event_key=key, kind=kind, params=params, recipients=recipients
    )


async def enqueue_service_alerts(uow: UnitOfWork, account: Account, today: date) -> int:
    """Writes every service alert due for the account today; never commits."""
    services = await lifecycle.open_services(uow, account.id)
    if not services:
        return 0
    recipients = await recipients_for(uow, account)
    if not recipients:
        return 0
    balance = await balance_of(uow, account.id)
    # Quiet hours hold the alert: its figures say when they were taken.
    now = uow.clock.now()
    held = release_time(account, now) > now
    as_of = {"as_of": now.astimezone(ZoneInfo(account.timezone)).strftime("%H:%M")} if held else {}
    added = 0
    for warning in renewal_warnings(services, balance, today):
        params = {**warning.params(), **as_of}
        added += await _put(uow, account, recipients, WARNING, warning.event_key, params)
    for closing in closing_returns(services, balance, today):
        added += await _put(
            uow, account, recipients, RETURN_CLOSING, closing.event_key, closing.params()
        )
    low = low_balance(account.id, services, balance, today)
    episode = shortage_episode(account, low is not None)
    if low is not None:
        low = replace(low, episode=episode)
        params = {**low.params(), **as_of}
        added += await _put(uow, account, recipients, LOW_BALANCE, low.event_key, params)
    return added
