"""The renewal rule: what happens to one service on one day. Pure: no I/O, no database.

`decide` is the whole rule. Every path follows it: the per-service state machine
(`core.journal.lifecycle.advance`, which members' actions run too), and the set-based pass
(`core.journal.sweep`), which decides a whole run of plain services at once.

How one edit changes both paths: the conditions are small functions written with comparison
operators only (`covers`, `period_over`, `window_over`), so they work on plain values — what
`decide` passes them — and on SQLAlchemy column expressions alike, where they build the SQL
predicate the set-based pass filters with (`due`, `covers_all`). Changing "renew when the
balance covers the price" is an edit of `covers`, and both the rule and the SQL follow.
`tests/core/test_renewal_rule.py` generates accounts and days and checks that the two paths
write the same rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_

from core.journal.models import LAPSED, ServiceStatus

# A lapsed service keeps its resources, and can be returned, this long after it stopped.
RETURN_WINDOW = timedelta(days=14)


class Outcome(StrEnum):
    """What the rule decides for a service on a day; the values are the audit actions' tails."""

    KEEP = "keep"  # nothing due
    ACTIVATE = "activated"  # ordered → active: the first, already paid period starts
    RENEW = "renewed"  # active, its period over: charged, the next period starts
    SUSPEND = "suspended"  # active, its period over, the balance short: waits for money
    DISCONNECT = "disconnected"  # active, its period over, auto-renew off
    RESUME = "resumed"  # suspended and the balance covers it now: charged, a new period
    CLOSE = "closed"  # lapsed and its return window over: its resources go back


def covers(balance: Any, price: Any) -> Any:
    """The balance pays for a period of this price. Plain ints or SQL expressions.

    It must only depend on what the balance keeps after the charge, and more kept never turns
    it false: `covers_all` (several renewals in turn) relies on that.
    """
    return balance >= price


def covers_all(balance: Any, total: Any) -> Any:
    """Renewals in turn, their prices summing to `total`, are all covered by `balance`."""
    return covers(balance, total)


def period_over(ends_on: Any, day: Any) -> Any:
    """An active service's period has ended by `day` (it renews on its last day's date)."""
    return ends_on <= day


def window_over(lapsed_on: Any, day: Any) -> Any:
    """A lapsed service's return window is over by `day` (it closes that day)."""
    return lapsed_on <= day - RETURN_WINDOW


def at_period_end(price: int, auto_renew: bool, balance: int) -> Outcome:
    """An active service whose period is over: renewed, suspended or disconnected."""
    if not auto_renew:
        return Outcome.DISCONNECT
    return Outcome.RENEW if covers(balance, price) else Outcome.SUSPEND


def decide(
    status: str,
    price: int,
    auto_renew: bool,
    balance: int,
    day: date,
    *,
    ends_on: date | None = None,
    lapsed_on: date | None = None,
    catching_up: bool = False,
) -> Outcome:
    """The next transition of a service on the local day `day`, with `balance` available.

    Applied again after each transition until it says KEEP (a period long over renews until
    it reaches `day`). `catching_up`: `day` is a missed day being replayed — nothing starts a
    period on it (activations and resumptions happen on the real day only).
    """
    if status == ServiceStatus.ORDERED:
        return Outcome.KEEP if catching_up else Outcome.ACTIVATE
    if status == ServiceStatus.ACTIVE:
        if ends_on is not None and period_over(ends_on, day):
            return at_period_end(price, auto_renew, balance)
        return Outcome.KEEP
    if status in LAPSED and lapsed_on is not None and window_over(lapsed_on, day):
        return Outcome.CLOSE
    if status == ServiceStatus.SUSPENDED and auto_renew and not catching_up:
        return Outcome.RESUME if covers(balance, price) else Outcome.KEEP
    return Outcome.KEEP


def due(s: Any, day: date, balance: int, *, catching_up: bool) -> Any:
    """SQL: the services of `s` (a table's columns) for which `decide` is not KEEP on `day`.

    `balance`: the most the pass can still spend (it only goes down during a pass), so the
    services it selects to resume are those `decide` may resume.
    """
    conditions = [
        and_(s.status == ServiceStatus.ACTIVE, period_over(s.ends_on, day)),
        and_(s.status.in_(LAPSED), window_over(s.lapsed_on, day)),
    ]
    if not catching_up:
        conditions += [
            s.status == ServiceStatus.ORDERED,
            and_(
                s.status == ServiceStatus.SUSPENDED,
                s.auto_renew.is_(True),
                covers(balance, s.price),
            ),
        ]
    return or_(*conditions)
