"""When an account's digests are due, and the owner's part of one (pure functions); what the
other parts say is counted by the database (`job`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.accounts.hours import working_day
from core.accounts.models import Account
from core.journal import forecast


def due_day(account: Account, now: datetime) -> date | None:
    """The account-local day whose digest is due at `now`, or None.

    Due from the digest hour on a working day until the end of working hours (at least one
    hour): a job that missed the hour (downtime) still sends today's digest once, later the same
    day; a day it missed entirely is not made up."""
    local = now.astimezone(ZoneInfo(account.timezone))
    if not working_day(account, local.date()):
        return None
    closes = max(account.work_end, account.digest_hour + 1)
    if not account.digest_hour <= local.hour < closes:
        return None
    return local.date()


@dataclass(frozen=True, slots=True)
class OwnerPart:
    """The owner's money: the balance, how long it covers renewals, the platform's paid-through."""

    balance: int
    currency: str
    anything_renews: bool  # any auto-renewal within the runway horizon
    short_on: date | None  # the first day the balance does not cover every renewal due by then
    shortfall: int
    paid_through: date | None

    @property
    def says_anything(self) -> bool:
        """Only when something renews or the platform is prepaid (a bare zero balance is no
        news)."""
        return self.anything_renews or self.paid_through is not None

    def params(self) -> dict[str, Any]:
        """The owner's part of the outbox row's parameters (`owner`)."""
        return {
            "balance": self.balance,
            "currency": self.currency,
            "renews": self.anything_renews,
            "short_on": self.short_on.isoformat() if self.short_on else None,
            "shortfall": self.shortfall,
            "paid_through": self.paid_through.isoformat() if self.paid_through else None,
        }


def owner_part(account: Account, balance: int, services: list, today: date) -> OwnerPart:
    """The runway as /balance works it out (forecast.renewals over the horizon, then runway)."""
    ahead = forecast.renewals(services, today, forecast.RUNWAY_HORIZON_DAYS)
    run = forecast.runway(balance, ahead)
    return OwnerPart(
        balance=balance,
        currency=account.currency,
        anything_renews=bool(ahead),
        short_on=run.short_on,
        shortfall=run.shortfall,
        paid_through=account.paid_through,
    )


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime, datetime]:
    """(start of yesterday, start of `day`, start of tomorrow), aware, local midnights."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, datetime.min.time(), zone)
    return (
        datetime.combine(day - timedelta(days=1), datetime.min.time(), zone),
        start,
        datetime.combine(day + timedelta(days=1), datetime.min.time(), zone),
    )
