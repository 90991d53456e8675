"""Alerts about the services journal: renewal warnings, low balance, closing return windows.

Each is computed from the account's state on its local day and written to the outbox with a key
naming the state it reports, so a run every few minutes adds nothing until the state changes.
A run that missed days sends the alert that is still true, never a stale one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.journal import forecast, lifecycle
from core.journal.models import LAPSED, ConnectedService, ServiceStatus
from core.journal.notices import recipients_for
from core.ledger.service import balance_of
from core.notifications.outbox import Recipient, enqueue

WARNING_DAYS = (3, 1)  # renewal warnings this many days before a service's end date
RETURN_WARNING_DAYS = 3  # "the return window closes in 3 days"
LOW_BALANCE_DAYS = 7  # the balance must cover the renewals of this many days ahead
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
    needed: int  # the renewals due by the end date, this one included, in charge order

    @property
    def shortfall(self) -> int:
        return max(0, self.needed - self.balance) if self.service.auto_renew else 0

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
            "shortfall": self.shortfall,
        }


def renewal_warnings(
    services: list[ConnectedService], balance: int, today: date
) -> list[RenewalWarning]:
    ahead = forecast.renewals(services, today, max(WARNING_DAYS))
    found = []
    for s in services:
        if s.status != ServiceStatus.ACTIVE or s.ends_on is None:
            continue
        days_left = (s.ends_on - today).days
        due = warning_due(days_left)
        if due is None:
            continue
        # Day by day as the lifecycle charges them; what is due earlier is paid first.
        needed = sum(r.price for r in ahead if r.on <= s.ends_on)
        found.append(RenewalWarning(s, due, days_left, balance, needed))
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
    state_day: date  # the end date of that day's renewals (a suspended one: the day it stopped)

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
    def event_key(self) -> str:
        """The state: the end date of the first renewals the balance does not cover.

        It stays the same while nothing changes — also when those renewals fail and wait as
        suspended services. A further drop below an earlier renewal, or a new shortage after a
        top-up, names another date and is sent again.
        """
        return f"{LOW_BALANCE}:{self.account_id}:{self.state_day.isoformat()}"

    def params(self) -> dict[str, Any]:
        covered_until = self.short_on - timedelta(days=1)
        return {
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
    account_id: int, services: list[ConnectedService], balance: int, today: date
) -> LowBalance | None:
    """The balance no longer covers the renewals due in the next LOW_BALANCE_DAYS days."""
    ahead = forecast.renewals(services, today, LOW_BALANCE_DAYS)
    run = forecast.runway(balance, ahead)
    if run.short_on is None:
        return None
    stopped = {s.id: s.lapsed_on for s in services if s.lapsed_on is not None}
    day = min(
        (stopped.get(r.service_id, r.on) if r.overdue else r.on)
        for r in ahead
        if r.on == run.short_on
    )
    return LowBalance(account_id, today, balance, ahead, run.short_on, day)


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
    added = 0
    for warning in renewal_warnings(services, balance, today):
        added += await _put(uow, account, recipients, WARNING, warning.event_key, warning.params())
    for closing in closing_returns(services, balance, today):
        added += await _put(
            uow, account, recipients, RETURN_CLOSING, closing.event_key, closing.params()
        )
    low = low_balance(account.id, services, balance, today)
    if low is not None:
        added += await _put(uow, account, recipients, LOW_BALANCE, low.event_key, low.params())
    return added
