"""The account's prepaid balance: an append-only ledger plus a cached, locked total.

Every change goes through `post()`: it takes the account's money lock (the balance row), returns
the first result for a repeated idempotency key, and refuses a charge below zero with a
compare-and-set on the cached total, all inside the caller's transaction.

This module is the only writer of the ledger table (`tests/test_architecture.py` fails if
another module writes it). Besides `post()`, one entry at a time, the renewal job writes many
at once under the account's lock, having computed them itself: `post_many()` (rows built by
`entry_row()`), `post_from()` (an INSERT … SELECT of `entries_from()`, the database computing
the rows) and `move_balance()` for the cached total.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update

from core.audit.service import audit
from core.db.sql import insert_ignoring_duplicates
from core.db.uow import UnitOfWork
from core.errors import Conflict, DomainError, InvalidInput
from core.ledger.models import Balance, EntryKind, LedgerEntry

MAX_TOP_UP = 10_000_000_00  # 10 million rubles: anything above is a typo
REFERENCE_MAX = 100
RECENT_ENTRIES = 10


class InsufficientFunds(DomainError):
    code = "balance_short"


@dataclass(frozen=True, slots=True)
class Posted:
    entry: LedgerEntry
    replayed: bool  # the idempotency key was seen before: nothing changed this time


@dataclass(frozen=True, slots=True)
class TopUp:
    entry: LedgerEntry
    replayed: bool
    balance: int


async def lock_balance(uow: UnitOfWork, account_id: int) -> int:
    """Serializes money changes of one account until the transaction ends; returns the balance.

    SQLite transactions already hold the database write lock (BEGIN IMMEDIATE); on PostgreSQL
    the balance row is locked FOR UPDATE, so a concurrent transaction waits here and then sees
    everything the first one committed.
    """
    await uow.session.execute(
        insert_ignoring_duplicates(uow, Balance).values(
            account_id=account_id, amount=0, updated_at=uow.clock.now()
        )
    )
    return await uow.session.scalar(
        select(Balance.amount).where(Balance.account_id == account_id).with_for_update()
    )


async def try_lock_balance(uow: UnitOfWork, account_id: int) -> int | None:
    """`lock_balance` for jobs: None at once if another transaction holds the lock.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so a second worker moves on to other accounts instead of
    waiting. SQLite: the write transaction already excludes every other writer.
    """
    await uow.session.execute(
        insert_ignoring_duplicates(uow, Balance).values(
            account_id=account_id, amount=0, updated_at=uow.clock.now()
        )
    )
    return await uow.session.scalar(
        select(Balance.amount)
        .where(Balance.account_id == account_id)
        .with_for_update(skip_locked=True)
    )


async def balance_of(uow: UnitOfWork, account_id: int) -> int:
    amount = await uow.session.scalar(
        select(Balance.amount).where(Balance.account_id == account_id)
    )
    return amount or 0


async def ledger_sum(uow: UnitOfWork, account_id: int) -> int:
    total = await uow.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(total)


async def find_entry(uow: UnitOfWork, account_id: int, key: str) -> LedgerEntry | None:
    return (
        await uow.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.account_id == account_id, LedgerEntry.idempotency_key == key
            )
        )
    ).first()


async def recent_entries(
    uow: UnitOfWork, account_id: int, limit: int = RECENT_ENTRIES
) -> list[LedgerEntry]:
    return list(
        await uow.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == account_id)
            .order_by(LedgerEntry.id.desc())
            .limit(limit)
        )
    )


async def post(
    uow: UnitOfWork,
    *,
    account_id: int,
    kind: EntryKind,
    amount: int,
    key: str,
    reason: str,
    note: str | None = None,
    service_id: int | None = None,
    actor_id: int | None = None,
) -> Posted:
    """Appends one entry (signed kopecks) unless `key` was used; never commits."""
    if amount == 0 or (kind == EntryKind.CHARGE) != (amount < 0):
        raise ValueError(f"a {kind} of {amount} kopecks")
    balance = await lock_balance(uow, account_id)
    existing = await find_entry(uow, account_id, key)
    if existing is not None:
        return Posted(existing, replayed=True)
    # Compare-and-set: the cached total moves only if it stays at or above zero.
    new_balance = (
        await uow.session.execute(
            update(Balance)
            .where(Balance.account_id == account_id, Balance.amount + amount >= 0)
            .values(amount=Balance.amount + amount, updated_at=uow.clock.now())
            .returning(Balance.amount)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if new_balance is None:
        raise InsufficientFunds(price=-amount, balance=balance, shortfall=-amount - balance)
    entry = LedgerEntry(
        account_id=account_id,
        kind=kind,
        amount=amount,
        balance_after=new_balance,
        idempotency_key=key,
        reason=reason,
        note=note[:200] if note else None,
        service_id=service_id,
        actor_id=actor_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(entry)
    await uow.session.flush()
    return Posted(entry, replayed=False)


# The columns of a ledger entry as the batch forms write them, in this order.
ENTRY_COLUMNS = (
    "account_id",
    "kind",
    "amount",
    "balance_after",
    "idempotency_key",
    "reason",
    "note",
    "service_id",
    "actor_id",
    "created_at",
)


def entry_row(
    *,
    account_id: int,
    kind: EntryKind,
    amount: int,
    balance_after: int,
    key: str,
    reason: str,
    created_at: datetime,
    note: str | None = None,
    service_id: int | None = None,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """One entry for `post_many`: the values `post` would write."""
    return {
        "account_id": account_id,
        "kind": kind.value,
        "amount": amount,
        "balance_after": balance_after,
        "idempotency_key": key,
        "reason": reason,
        "note": note[:200] if note else None,
        "service_id": service_id,
        "actor_id": actor_id,
        "created_at": created_at,
    }


async def post_many(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Appends entries (`entry_row`) computed by a caller that holds the account's money lock
    and has checked their keys; it moves the cached total itself (`move_balance`)."""
    if rows:
        await uow.session.execute(LedgerEntry.__table__.insert(), rows)


def entries_from(
    *,
    account_id: Any,
    kind: Any,
    amount: Any,
    balance_after: Any,
    key: Any,
    reason: Any,
    note: Any,
    service_id: Any,
    actor_id: Any,
    created_at: Any,
) -> Select:
    """The SELECT of entries the database computes (SQL expressions, named as the columns),
    for `post_from`; add its WHERE and ORDER BY (the order the entries get their ids in)."""
    return select(
        account_id, kind, amount, balance_after, key, reason, note, service_id, actor_id, created_at
    )


async def post_from(uow: UnitOfWork, entries: Select, count: int) -> None:
    """INSERT … SELECT of `entries_from(...)`: exactly `count` entries, or an error (the caller
    rolls back). The same conditions as `post_many`: the lock is held, the keys are new."""
    table = LedgerEntry.__table__
    result = await uow.session.execute(table.insert().from_select(ENTRY_COLUMNS, entries))
    if result.rowcount != count:
        raise RuntimeError(f"ledger: {result.rowcount} entries written for {count}")


async def move_balance(uow: UnitOfWork, account_id: int, stored: int, new: int) -> None:
    """Sets the cached total after `post_many`/`post_from`, compare-and-set against `stored`:
    under the account's lock nothing else may have moved it."""
    moved = await uow.session.execute(
        update(Balance)
        .where(Balance.account_id == account_id, Balance.amount == stored)
        .values(amount=new, updated_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise RuntimeError(f"balance of account {account_id} moved under its lock")


def clean_reference(reference: str | None) -> str | None:
    reference = " ".join((reference or "").split())
    if len(reference) > REFERENCE_MAX:
        raise InvalidInput("reference_too_long", limit=REFERENCE_MAX)
    return reference or None


async def credit_top_up(
    uow: UnitOfWork,
    *,
    account_id: int,
    actor_id: int | None,
    amount: int,
    reference: str | None,
    request_key: str | None = None,
) -> TopUp:
    """Records a payment received. One reference credits once; so does one request key."""
    if amount <= 0:
        raise InvalidInput("amount_positive")
    if amount > MAX_TOP_UP:
        raise InvalidInput("amount_too_large", amount=MAX_TOP_UP)
    reference = clean_reference(reference)
    if reference:
        key = f"topup:ref:{reference.casefold()}"
    else:
        key = f"topup:req:{request_key or uuid.uuid4().hex}"
    posted = await post(
        uow,
        account_id=account_id,
        kind=EntryKind.TOP_UP,
        amount=amount,
        key=key,
        reason="topup",
        note=reference,
        actor_id=actor_id,
    )
    entry = posted.entry
    if posted.replayed and entry.amount != amount:
        raise Conflict("reference_used", reference=reference, amount=entry.amount)
    if not posted.replayed:
        before = {"balance": entry.balance_after - amount}
        after = {"balance": entry.balance_after, "amount": amount}
        audit(
            uow, actor_id, "balance.topped_up", entry, before=before, after=after, reason=reference
        )
    return TopUp(entry, posted.replayed, await balance_of(uow, account_id))
