"""Where the services lifecycle writes its changes: money, audit entries and the services' rows.

The lifecycle (`core.journal.lifecycle`) is one state machine; what it does to a service is
written by one of two `Books`:

- `Books` writes at once through the session, one service at a time: a member's action on one
  service (set up, auto-renew on), with the service loaded as an ORM object;
- `Batch` is the renewal job's, for one account whose money lock the caller holds: the balance
  is kept in memory (nothing else can move it meanwhile) and the changes of a chunk of services
  go out in a few statements — one UPDATE of the services, one INSERT of the ledger entries, one
  UPDATE of the balance, one INSERT of the audit entries — instead of 4–5 round trips each.

Both write the same rows: the same ledger entry (kind, amount, balance after, idempotency key),
the same audit entry, the same columns of the service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, select, update

from core.audit.models import AuditEntry
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.journal import resources
from core.journal.models import ConnectedService
from core.ledger.models import EntryKind, LedgerEntry
from core.ledger.service import balance_of, entry_row, move_balance, post, post_many


def renewal_key(service_id: int, period_start: date) -> str:
    """The idempotency key of a period's charge: a period is charged once, whoever runs it."""
    return f"renew:{service_id}:{period_start.isoformat()}"


@dataclass(frozen=True, slots=True)
class Charge:
    charged: int  # kopecks taken now; 0 when the period was charged before (a replayed key)
    balance_after: int  # of the ledger entry (of the first one, on a replay)


@dataclass(slots=True)
class ServiceState:
    """A service's row as the lifecycle reads and changes it, without the ORM (the job's path).

    The attributes are named as `ConnectedService`'s, so the state machine takes either.
    """

    id: int
    account_id: int
    catalog_code: str
    price: int
    period_months: int
    auto_renew: bool
    status: str
    started_on: date | None
    ends_on: date | None
    anchor_day: int | None
    lapsed_on: date | None
    version: int
    closed_at: datetime | None


def state_columns() -> tuple:
    """The columns a `ServiceState` is read from, in its fields' order."""
    s = ConnectedService.__table__.c
    return (
        s.id,
        s.account_id,
        s.catalog_code,
        s.price,
        s.period_months,
        s.auto_renew,
        s.status,
        s.started_on,
        s.ends_on,
        s.anchor_day,
        s.lapsed_on,
        s.version,
        s.closed_at,
    )


# The columns the lifecycle changes.
CHANGING = ("status", "started_on", "ends_on", "anchor_day", "lapsed_on", "version", "closed_at")
_changing = attrgetter(*CHANGING)


class Books:
    """Writes each change at once through the session (the ORM tracks the service itself)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def now(self) -> datetime:
        return self.uow.clock.now()

    async def available(self, account_id: int) -> int:
        """The balance the renewal rule decides with (the caller holds the account's lock)."""
        return await balance_of(self.uow, account_id)

    async def charge(self, service: Any, period_start: date, actor_id: int | None) -> Charge:
        """Charges the period starting `period_start` (once: a repeated key charges nothing).

        The renewal rule has decided the balance covers it (`core.journal.rule`); the caller
        holds the account's money lock, so that stays true.
        """
        posted = await post(
            self.uow,
            account_id=service.account_id,
            kind=EntryKind.CHARGE,
            amount=-service.price,
            key=renewal_key(service.id, period_start),
            reason="service.renewal",
            note=service.catalog_code,
            service_id=service.id,
            actor_id=actor_id,
        )
        return Charge(0 if posted.replayed else service.price, posted.entry.balance_after)

    def audit(
        self,
        service: Any,
        action: str,
        actor_id: int | None,
        before: dict,
        after: dict,
        reason: str | None = None,
    ) -> None:
        audit(self.uow, actor_id, action, service, before=before, after=after, reason=reason)

    async def release(self, service: Any) -> list[str]:
        """Gives the service's pool items back; returns their values."""
        return await resources.release(self.uow, service.id)


def books_of(uow: UnitOfWork | Books) -> Books:
    return uow if isinstance(uow, Books) else Books(uow)


class Batch(Books):
    """One account's job run: changes are collected per chunk of services and sent by `flush()`.

    The caller holds the account's money lock for the whole transaction and hands every chunk's
    services in with `track()`; the rows `flush()` writes back are those whose columns changed.
    """

    def __init__(self, uow: UnitOfWork, account_id: int, balance: int) -> None:
        super().__init__(uow)
        self.account_id = account_id
        self.balance = balance  # the true balance; the balance row gets it at `flush()`
        self._stored_balance = balance
        self._tracked: list[tuple[ServiceState, tuple]] = []
        self._entries: list[dict[str, Any]] = []
        self._audits: list[dict[str, Any]] = []
        # Renewal keys looked up in the ledger (and those charged since), and of these the ones
        # that have an entry, with its balance after.
        self._checked: set[str] = set()
        self._charged: dict[str, int] = {}

    def track(self, services: Iterable[ServiceState]) -> None:
        for service in services:
            self._tracked.append((service, _changing(service)))

    def spend(self, amount: int) -> int:
        """Takes a charge the caller writes itself (`core.journal.sweep`); the balance after."""
        self.balance -= amount
        return self.balance

    def known(self, key: str, balance_after: int | None) -> None:
        """What the caller read of a renewal key in the ledger (None: not there); saves `charge`
        a query per service."""
        self._checked.add(key)
        if balance_after is not None:
            self._charged[key] = balance_after

    async def _look_up(self, key: str) -> None:
        found = await self.uow.session.scalar(
            select(LedgerEntry.balance_after).where(
                LedgerEntry.account_id == self.account_id, LedgerEntry.idempotency_key == key
            )
        )
        self.known(key, found)

    async def available(self, account_id: int) -> int:
        return self.balance

    async def charge(self, service: Any, period_start: date, actor_id: int | None) -> Charge:
        key = renewal_key(service.id, period_start)
        if key not in self._checked:
            await self._look_up(key)
        if key in self._charged:
            return Charge(0, self._charged[key])
        self.balance -= service.price
        self._entries.append(
            entry_row(
                account_id=service.account_id,
                kind=EntryKind.CHARGE,
                amount=-service.price,
                balance_after=self.balance,
                key=key,
                reason="service.renewal",
                note=service.catalog_code,
                service_id=service.id,
                actor_id=actor_id,
                created_at=self.now(),
            )
        )
        self._charged[key] = self.balance
        return Charge(service.price, self.balance)

    def audit(
        self,
        service: Any,
        action: str,
        actor_id: int | None,
        before: dict,
        after: dict,
        reason: str | None = None,
    ) -> None:
        self._audits.append(
            {
                "account_id": service.account_id,
                "actor_id": actor_id,
                "action": action,
                "subject_type": "service",
                "subject_id": service.id,
                "before": before,
                "after": after,
                "reason": reason,
                "created_at": self.now(),
            }
        )

    async def flush(self) -> None:
        """Writes what the tracked services' changes need and forgets them (keeps memory flat)."""
        session = self.uow.session
        changed = [s for s, loaded in self._tracked if _changing(s) != loaded]
        if changed:
            await session.execute(_update_services(), [_state_params(s) for s in changed])
        await post_many(self.uow, self._entries)
        if self.balance != self._stored_balance:
            await move_balance(self.uow, self.account_id, self._stored_balance, self.balance)
            self._stored_balance = self.balance
        if self._audits:
            await session.execute(AuditEntry.__table__.insert(), self._audits)
        self._tracked.clear()
        self._entries.clear()
        self._audits.clear()
        self._checked.clear()
        self._charged.clear()


def _update_services():
    table = ConnectedService.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("service_id"))
        .values({name: bindparam(f"new_{name}") for name in CHANGING})
    )


def _state_params(service: ServiceState) -> dict[str, Any]:
    params = {f"new_{name}": getattr(service, name) for name in CHANGING}
    params["service_id"] = service.id
    return params
