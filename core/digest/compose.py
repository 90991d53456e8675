"""What one member's digest says, and when an account's digests are due (pure functions)."""

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
class Oldest:
    """The oldest order of a list: its number and when it arrived."""

    number: str
    since: datetime


@dataclass(frozen=True, slots=True)
class OwnerPart:
    """The owner's money: the balance, how long it covers renewals, the platform's paid-through."""

    balance: int
    currency: str
    anything_renews: bool  # any auto-renewal within the runway horizon
    short_on: date | None  # the first day the balance does not cover every renewal due by then
    shortfall: int
    paid_through: date | None


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


@dataclass(frozen=True, slots=True)
class Digest:
    member_id: int
    day: date
    timezone: str
    currency: str
    open_orders: int = 0
    oldest_open: Oldest | None = None
    waiting: int = 0  # unassigned new orders of the account (for members who may claim)
    oldest_waiting: Oldest | None = None
    tasks_today: int = 0
    tasks_overdue: int = 0
    claimed: int = 0  # yesterday (local)
    completed: int = 0  # yesterday
    revenue: int = 0  # of yesterday's completed orders, in the account's currency (kopecks)
    owner: OwnerPart | None = None

    @property
    def says_anything(self) -> bool:
        """Nothing to say → nothing sent. The owner's part counts only when something renews
        or the platform is prepaid (a bare zero balance is no news)."""
        owner = self.owner is not None and (
            self.owner.anything_renews or self.owner.paid_through is not None
        )
        counts = (self.open_orders, self.waiting, self.tasks_today, self.tasks_overdue)
        return owner or any(counts) or bool(self.claimed or self.completed)

    @property
    def event_key(self) -> str:
        return f"digest:{self.member_id}:{self.day.isoformat()}"

    def params(self) -> dict[str, Any]:
        """The outbox row's parameters: rendered in the recipient's language at send time."""

        def oldest(o: Oldest | None) -> dict[str, str] | None:
            return None if o is None else {"number": o.number, "since": o.since.isoformat()}

        params: dict[str, Any] = {
            "day": self.day.isoformat(),
            "tz": self.timezone,
            "currency": self.currency,
            "open": self.open_orders,
            "oldest_open": oldest(self.oldest_open),
            "waiting": self.waiting,
            "oldest_waiting": oldest(self.oldest_waiting),
            "tasks_today": self.tasks_today,
            "tasks_overdue": self.tasks_overdue,
            "claimed": self.claimed,
            "completed": self.completed,
            "revenue": self.revenue,
        }
        if self.owner is not None:
            o = self.owner
            params["owner"] = {
                "balance": o.balance,
                "currency": o.currency,
                "renews": o.anything_renews,
                "short_on": o.short_on.isoformat() if o.short_on else None,
                "shortfall": o.shortfall,
                "paid_through": o.paid_through.isoformat() if o.paid_through else None,
            }
        return params


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime, datetime]:
    """(start of yesterday, start of `day`, start of tomorrow), aware, local midnights."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, datetime.min.time(), zone)
    return (
        datetime.combine(day - timedelta(days=1), datetime.min.time(), zone),
        start,
        datetime.combine(day + timedelta(days=1), datetime.min.time(), zone),
    )
