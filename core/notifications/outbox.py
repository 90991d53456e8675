"""The notification outbox: written with the event, drained by the sender, once per event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update

from core.accounts.models import Account
from core.db.sql import insert_ignoring_duplicates
from core.db.uow import UnitOfWork
from core.members.models import Member, MemberStatus
from core.members.permissions import OWNER, Perm, parse_perms
from core.notifications.models import DeliveryAttempt, OutboxMessage, OutboxStatus

QUIET_START = time(22, 0)
QUIET_END = time(8, 0)


@dataclass(frozen=True, slots=True)
class Recipient:
    chat_id: int
    locale: str
    member_id: int | None = None
    is_group: bool = False


def release_time(account: Account, now: datetime) -> datetime:
    """`now`, or the next 08:00 in the account's zone when now falls in quiet hours."""
    if not account.quiet_hours:
        return now
    local = now.astimezone(ZoneInfo(account.timezone))
    if QUIET_END <= local.time() < QUIET_START:
        return now
    release_day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    release = datetime.combine(release_day, QUIET_END, tzinfo=ZoneInfo(account.timezone))
    return release.astimezone(now.tzinfo)


@dataclass(frozen=True, slots=True)
class Event:
    """Something to tell: one outbox row per recipient, once per `key`."""

    key: str
    kind: str
    params: dict[str, Any]


# Rows per executemany: bounds the memory a big batch of events takes.
ROWS_PER_INSERT = 1_000


async def enqueue(
    uow: UnitOfWork,
    *,
    account: Account,
    event_key: str,
    kind: str,
    params: dict[str, Any],
    recipients: list[Recipient],
    respect_quiet_hours: bool = True,
) -> int:
    """Adds one row per recipient in the caller's transaction; a repeated event adds nothing.

    Returns how many new rows were written.
    """
    return await enqueue_many(
        uow,
        account=account,
        events=[Event(event_key, kind, params)],
        recipients=recipients,
        respect_quiet_hours=respect_quiet_hours,
    )


async def enqueue_many(
    uow: UnitOfWork,
    *,
    account: Account,
    events: Iterable[Event],
    recipients: list[Recipient],
    respect_quiet_hours: bool = True,
) -> int:
    """`enqueue` for many events to the same recipients, a thousand rows per statement."""
    if not recipients:
        return 0
    now = uow.clock.now()
    not_before = release_time(account, now) if respect_quiet_hours else now
    per_insert = max(1, ROWS_PER_INSERT // len(recipients))
    added = 0
    events = iter(events)
    while part := list(islice(events, per_insert)):
        rows = [
            {
                "account_id": account.id,
                "event_key": event.key[:200],
                "chat_id": r.chat_id,
                "member_id": r.member_id,
                "is_group": r.is_group,
                "kind": event.kind,
                "params": event.params,
                "locale": r.locale,
                "status": OutboxStatus.PENDING.value,
                "not_before": not_before,
                "attempts": 0,
                "created_at": now,
            }
            for event in part
            for r in recipients
        ]
        # A repeated (event_key, chat_id) is skipped: the event already has its message. The
        # rows go as one executemany; RETURNING counts the new ones on every driver.
        insert = insert_ignoring_duplicates(uow, OutboxMessage).returning(OutboxMessage.id)
        added += len((await uow.session.execute(insert, rows)).all())
    return added


async def alert_recipients(uow: UnitOfWork, account: Account) -> list[Recipient]:
    """The owner, and admins (users.manage holders) who opted in; never the unreachable."""
    members = await uow.session.scalars(
        select(Member).where(
            Member.account_id == account.id,
            Member.status == MemberStatus.ACTIVE,
            Member.unreachable.is_(False),
        )
    )
    chosen = []
    for member in members:
        is_owner = member.role.code == OWNER
        is_admin = Perm.USERS_MANAGE in parse_perms(member.role.permissions)
        if is_owner or (is_admin and member.alerts_opt_in):
            chosen.append(Recipient(member.telegram_id, member.locale or account.locale, member.id))
    return chosen


async def member_recipient(uow: UnitOfWork, member_id: int) -> Recipient | None:
    member = await uow.session.get(Member, member_id)
    if member is None or member.status != MemberStatus.ACTIVE or member.unreachable:
        return None
    account = await uow.session.get(Account, member.account_id)
    return Recipient(member.telegram_id, member.locale or account.locale, member.id)


async def claim_due(
    uow: UnitOfWork, *, owner: str, limit: int, lease: timedelta
) -> list[OutboxMessage]:
    """Leases up to `limit` due messages to this sender; other senders skip them.

    PostgreSQL takes disjoint batches with FOR UPDATE SKIP LOCKED; SQLite has one writer, and
    the compare-and-set on the lease makes a second claim of the same row a no-op on both.
    """
    now = uow.clock.now()
    due = and_(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.not_before <= now,
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
    )
    candidates = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
    if uow.session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(await uow.session.scalars(candidates))
    if not ids:
        await uow.commit()
        return []
    await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), due)
        .values(lease_owner=owner, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    claimed = list(
        await uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == owner)
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    )
    await uow.commit()
    return claimed


async def _finish(
    uow: UnitOfWork,
    message_id: int,
    owner: str,
    outcome: str,
    detail: str | None,
    **values: Any,
) -> bool:
    now = uow.clock.now()
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.lease_owner == owner,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(attempts=OutboxMessage.attempts + 1, lease_owner=None, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    uow.session.add(
        DeliveryAttempt(outbox_id=message_id, at=now, outcome=outcome, detail=(detail or "")[:500])
    )
    await uow.commit()
    return result.rowcount == 1


async def mark_sent(uow: UnitOfWork, message_id: int, owner: str, telegram_id: int | None) -> bool:
    return await _finish(
        uow,
        message_id,
        owner,
        "sent",
        None,
        status=OutboxStatus.SENT,
        sent_at=uow.clock.now(),
        telegram_message_id=telegram_id,
    )


async def mark_retry(
    uow: UnitOfWork, message_id: int, owner: str, *, delay: timedelta, outcome: str, error: str
) -> bool:
    return await _finish(
        uow,
        message_id,
        owner,
        outcome,
        error,
        not_before=uow.clock.now() + delay,
        last_error=error[:500],
    )


async def mark_failed(
    uow: UnitOfWork, message_id: int, owner: str, *, outcome: str, error: str, unreachable: bool
) -> bool:
    status = OutboxStatus.UNREACHABLE if unreachable else OutboxStatus.FAILED
    return await _finish(
        uow, message_id, owner, outcome, error, status=status, last_error=error[:500]
    )


async def release(uow: UnitOfWork, message_id: int, owner: str) -> None:
    """Gives a claimed message back unsent (no attempt was made)."""
    await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    await uow.commit()


async def set_reachable(uow: UnitOfWork, telegram_id: int, reachable: bool) -> int:
    """A member blocked the bot (or came back): stop or resume sending to them."""
    result = await uow.session.execute(
        update(Member)
        .where(Member.telegram_id == telegram_id, Member.unreachable.is_(reachable))
        .values(unreachable=not reachable)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        await uow.commit()
    return result.rowcount or 0


async def pending_count(uow: UnitOfWork) -> int:
    return await uow.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
    )
