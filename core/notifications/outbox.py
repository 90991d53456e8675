"""The notification outbox: written with the event, drained by the sender, once per event."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    FromClause,
    Insert,
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.sql.dml import Update

from core.accounts.models import Account
from core.db.sql import insert_ignoring_duplicates, lease_due, no_jit
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
    """`now`, or the end of the account's quiet hours (22:00–08:00 local unless /settings
    says otherwise) when now falls in them."""
    if not account.quiet_hours:
        return now
    start = time(account.quiet_start) if account.quiet_start is not None else QUIET_START
    end = time(account.quiet_end) if account.quiet_end is not None else QUIET_END
    local = now.astimezone(ZoneInfo(account.timezone))
    if start > end:  # over midnight, e.g. 22–8
        if end <= local.time() < start:
            return now
        release_day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    else:  # within a day, e.g. 1–7
        if not start <= local.time() < end:
            return now
        release_day = local.date()
    release = datetime.combine(release_day, end, tzinfo=ZoneInfo(account.timezone))
    return release.astimezone(now.tzinfo)


@dataclass(frozen=True, slots=True)
class Event:
    """Something to tell: one outbox row per recipient, once per `key`."""

    key: str
    kind: str
    params: dict[str, Any]
    edit_of: str | None = None  # the event key of the message this one edits


# Set on a unit of work's session when it adds messages: the adapter wakes the sender.
WROTE_MESSAGES = "outbox.wrote_messages"


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
    uow.session.info[WROTE_MESSAGES] = True
    pairs = (Personal(event, r) for event in events for r in recipients)
    return await enqueue_personal(
        uow, account=account, messages=pairs, respect_quiet_hours=respect_quiet_hours
    )


@dataclass(frozen=True, slots=True)
class Personal:
    """One event told to one recipient (a digest: every member's own text)."""

    event: Event
    recipient: Recipient


async def enqueue_personal(
    uow: UnitOfWork,
    *,
    account: Account,
    messages: Iterable[Personal],
    respect_quiet_hours: bool = True,
) -> int:
    """One row per (event, recipient) pair, a thousand rows per statement; a repeated pair adds
    nothing. Returns how many new rows were written."""
    now = uow.clock.now()
    not_before = release_time(account, now) if respect_quiet_hours else now
    added = 0
    messages = iter(messages)
    while part := list(islice(messages, ROWS_PER_INSERT)):
        uow.session.info[WROTE_MESSAGES] = True
        rows = [
            {
                "account_id": account.id,
                "event_key": m.event.key[:200],
                "chat_id": m.recipient.chat_id,
                "member_id": m.recipient.member_id,
                "is_group": m.recipient.is_group,
                "kind": m.event.kind,
                "edit_of": m.event.edit_of,
                "params": m.event.params,
                "locale": m.recipient.locale,
                "status": OutboxStatus.PENDING.value,
                "not_before": not_before,
                "attempts": 0,
                "created_at": now,
            }
            for m in part
        ]
        # A repeated (event_key, chat_id) is skipped: the event already has its message. The
        # rows go as one executemany (on the table: half the time of the ORM's bulk path);
        # RETURNING counts the new ones on every driver.
        table = OutboxMessage.__table__
        insert = insert_ignoring_duplicates(uow, table).returning(table.c.id)
        added += len((await uow.session.execute(insert, rows)).all())
    return added


async def enqueue_select(uow: UnitOfWork, rows: Select) -> int:
    """`enqueue_personal` computed by the database: one statement writes a row for each row of
    `rows`, a SELECT whose columns are labelled `account_id, event_key, chat_id, member_id,
    kind, params, locale, not_before` (params built by the database, `core.db.sql.json_object`).
    A repeated (event key, chat) adds nothing. Returns how many new rows were written."""
    uow.session.info[WROTE_MESSAGES] = True
    return (await uow.session.execute(_insert_select(uow, rows))).rowcount


def _insert_select(uow: UnitOfWork, rows: Select) -> Insert:
    """The INSERT … SELECT of `enqueue_select` (the columns the outbox fills itself added)."""
    table = OutboxMessage.__table__
    rows = rows.add_columns(
        literal(False, Boolean).label("is_group"),
        literal(OutboxStatus.PENDING.value).label("status"),
        literal(0, Integer).label("attempts"),
        literal(uow.clock.now(), table.c.created_at.type).label("created_at"),
    )
    columns = [c.name for c in rows.selected_columns]
    return insert_ignoring_duplicates(uow, table).from_select(columns, rows)


def claims_and_enqueues(uow: UnitOfWork) -> bool:
    """Whether `enqueue_claimed` runs here (PostgreSQL's data-modifying WITH); SQLite: the
    caller runs its claim, then `enqueue_select`."""
    return uow.session.get_bind().dialect.name == "postgresql"


async def enqueue_claimed(
    uow: UnitOfWork, claim: Update, rows: Callable[[FromClause], Select]
) -> tuple[int, int]:
    """`enqueue_select` fed by a claim, in one statement (PostgreSQL only,
    `claims_and_enqueues`): `claim` is an UPDATE … RETURNING that marks what is to be told (a
    compare-and-set: only the rows it changes are returned), and `rows(claimed)` the SELECT of
    the messages, reading the rows the claim returned as a table. Nothing goes back and forth
    between the marking and the writing: no list of keys, no second statement. Returns (rows
    claimed, new messages written); a repeated (event key, chat) adds nothing, as there.
    Turns JIT off for the rest of the transaction (`no_jit`: the planner cannot estimate the
    claimed rows, and compiling the statement would cost a second)."""
    uow.session.info[WROTE_MESSAGES] = True
    await no_jit(uow)
    claimed = claim.cte("claimed")
    table = OutboxMessage.__table__
    written = _insert_select(uow, rows(claimed)).returning(table.c.id).cte("written")
    counts = select(
        select(func.count()).select_from(claimed).scalar_subquery(),
        select(func.count()).select_from(written).scalar_subquery(),
    )
    won, added = (await uow.session.execute(counts)).one()
    return won, added


def wrote_messages(uow: UnitOfWork) -> bool:
    """Whether this unit of work added messages (committed or not): time to wake the sender."""
    return bool(uow.session.info.get(WROTE_MESSAGES))


async def enqueue_edit(uow: UnitOfWork, *, account: Account, event: Event) -> int:
    """Edits every message sent (or still to be sent) under `event.edit_of`: one row per chat,
    in the language and chat type of the message it edits.

    Edits are never held for quiet hours: they change what is already on the screen.
    """
    targets = await uow.session.execute(
        select(
            OutboxMessage.chat_id,
            OutboxMessage.locale,
            OutboxMessage.member_id,
            OutboxMessage.is_group,
        )
        .where(OutboxMessage.event_key == event.edit_of)
        .order_by(OutboxMessage.id)
    )
    recipients = [Recipient(t.chat_id, t.locale, t.member_id, t.is_group) for t in targets]
    return await enqueue_many(
        uow, account=account, events=[event], recipients=recipients, respect_quiet_hours=False
    )


@dataclass(frozen=True, slots=True)
class EditTarget:
    """Where an edit goes: the message id to edit; or why not (yet).

    Neither set: the message to edit is not sent yet, so the edit waits. `skip`: there is
    nothing to edit ("no_target": that message failed or never existed) or a newer edit of the
    same message replaces this one ("superseded")."""

    message_id: int | None = None
    skip: str | None = None

    @property
    def waiting(self) -> bool:
        return self.message_id is None and self.skip is None


async def edit_targets(uow: UnitOfWork, messages: Sequence[OutboxMessage]) -> dict[int, EditTarget]:
    """Resolves the claimed edits among `messages` (by outbox id), two queries for all."""
    edits = [m for m in messages if m.edit_of is not None]
    if not edits:
        return {}
    keys = sorted({m.edit_of for m in edits})
    chats = sorted({m.chat_id for m in edits})
    t = OutboxMessage
    shown = {
        (r.event_key, r.chat_id): r
        for r in await uow.session.execute(
            select(t.event_key, t.chat_id, t.status, t.telegram_message_id).where(
                t.event_key.in_(keys), t.chat_id.in_(chats)
            )
        )
    }
    newest = {
        (r.edit_of, r.chat_id): r.newest
        for r in await uow.session.execute(
            select(t.edit_of, t.chat_id, func.max(t.id).label("newest"))
            .where(t.edit_of.in_(keys), t.chat_id.in_(chats))
            .group_by(t.edit_of, t.chat_id)
        )
    }
    targets = {}
    for message in edits:
        where = (message.edit_of, message.chat_id)
        target = shown.get(where)
        if newest.get(where, message.id) > message.id:
            targets[message.id] = EditTarget(skip="superseded")
        elif target is not None and target.status == OutboxStatus.PENDING:
            targets[message.id] = EditTarget()
        elif target is not None and target.status == OutboxStatus.SENT:
            targets[message.id] = EditTarget(message_id=target.telegram_message_id)
        else:
            targets[message.id] = EditTarget(skip="no_target")
    return targets


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
    claimed = await lease_due(
        uow,
        OutboxMessage,
        OutboxMessage.id,
        due,
        owner=owner,
        until=now + lease,
        limit=limit,
        rows=True,
    )
    await uow.commit()
    return claimed


@dataclass(frozen=True, slots=True)
class Finished:
    """What came of one claimed message; `record` writes many of them in one transaction.

    `outcome` is "sent" or why not ("retry_after", "network", "forbidden", …); None gives the
    message back untried (no attempt). `retry_in` puts it back for later; a final `status`
    (FAILED, UNREACHABLE, SKIPPED) gives up on it.
    """

    message_id: int
    at: datetime
    outcome: str | None
    status: OutboxStatus = OutboxStatus.PENDING
    telegram_id: int | None = None
    error: str | None = None
    retry_in: timedelta | None = None

    @classmethod
    def sent(cls, message_id: int, at: datetime, telegram_id: int | None) -> Finished:
        return cls(message_id, at, "sent", OutboxStatus.SENT, telegram_id=telegram_id)

    @classmethod
    def retry(
        cls, message_id: int, at: datetime, *, delay: timedelta, outcome: str, error: str
    ) -> Finished:
        return cls(message_id, at, outcome, error=error, retry_in=delay)

    @classmethod
    def failed(
        cls, message_id: int, at: datetime, *, outcome: str, error: str, unreachable: bool
    ) -> Finished:
        status = OutboxStatus.UNREACHABLE if unreachable else OutboxStatus.FAILED
        return cls(message_id, at, outcome, status, error=error)

    @classmethod
    def skipped(cls, message_id: int, at: datetime, *, outcome: str) -> Finished:
        return cls(message_id, at, outcome, OutboxStatus.SKIPPED)

    @classmethod
    def released(cls, message_id: int, at: datetime) -> Finished:
        return cls(message_id, at, None)

    @property
    def kind(self) -> str:
        if self.outcome is None:
            return "released"
        if self.status == OutboxStatus.SENT:
            return "sent"
        return "retry" if self.status == OutboxStatus.PENDING else "failed"


def _statements(owner: str) -> dict[str, Update]:
    """One UPDATE per kind of outcome, run with one parameter set per message."""
    t = OutboxMessage.__table__
    mine = and_(
        t.c.id == bindparam("m_id"),
        t.c.lease_owner == owner,
        t.c.status == OutboxStatus.PENDING.value,
    )
    done = {"attempts": t.c.attempts + 1, "lease_owner": None, "lease_until": None}
    return {
        "sent": update(t)
        .where(mine)
        .values(
            status=OutboxStatus.SENT.value,
            sent_at=bindparam("m_at"),
            telegram_message_id=bindparam("m_telegram_id"),
            **done,
        ),
        "retry": update(t)
        .where(mine)
        .values(not_before=bindparam("m_not_before"), last_error=bindparam("m_error"), **done),
        "failed": update(t)
        .where(mine)
        .values(status=bindparam("m_status"), last_error=bindparam("m_error"), **done),
        "released": update(t).where(mine).values(lease_owner=None, lease_until=None),
    }


def _params(item: Finished) -> dict[str, Any]:
    error = (item.error or "")[:500]
    params: dict[str, Any] = {"m_id": item.message_id}
    if item.kind == "sent":
        params.update(m_at=item.at, m_telegram_id=item.telegram_id)
    elif item.kind == "retry":
        params.update(m_not_before=item.at + (item.retry_in or timedelta()), m_error=error)
    elif item.kind == "failed":
        params.update(m_status=item.status.value, m_error=error)
    return params


async def record(uow: UnitOfWork, owner: str, finished: Sequence[Finished]) -> int:
    """Writes what came of claimed messages, one transaction for all of them, and commits.

    Only rows still pending and leased to `owner` change (a lapsed lease taken over by another
    sender is theirs now); every attempt is logged either way. Returns how many rows changed
    when one message is written (the PostgreSQL driver does not count rows of an executemany).
    """
    if not finished:
        return 0
    statements = _statements(owner)
    changed = 0
    for kind in ("sent", "retry", "failed", "released"):
        params = [_params(item) for item in finished if item.kind == kind]
        if params:
            # One parameter set as a plain execute, so its rowcount is reliable everywhere.
            result = await uow.session.execute(
                statements[kind], params[0] if len(params) == 1 else params
            )
            changed += max(result.rowcount or 0, 0)
    attempts = [
        {
            "outbox_id": item.message_id,
            "at": item.at,
            "outcome": item.outcome,
            "detail": (item.error or "")[:500],
        }
        for item in finished
        if item.outcome is not None
    ]
    if attempts:
        await uow.session.execute(insert(DeliveryAttempt), attempts)
    await uow.commit()
    return changed


async def mark_sent(uow: UnitOfWork, message_id: int, owner: str, telegram_id: int | None) -> bool:
    finished = Finished.sent(message_id, uow.clock.now(), telegram_id)
    return await record(uow, owner, [finished]) == 1


async def mark_retry(
    uow: UnitOfWork, message_id: int, owner: str, *, delay: timedelta, outcome: str, error: str
) -> bool:
    finished = Finished.retry(
        message_id, uow.clock.now(), delay=delay, outcome=outcome, error=error
    )
    return await record(uow, owner, [finished]) == 1


async def mark_failed(
    uow: UnitOfWork, message_id: int, owner: str, *, outcome: str, error: str, unreachable: bool
) -> bool:
    finished = Finished.failed(
        message_id, uow.clock.now(), outcome=outcome, error=error, unreachable=unreachable
    )
    return await record(uow, owner, [finished]) == 1


async def release(uow: UnitOfWork, message_id: int, owner: str) -> None:
    """Gives a claimed message back unsent (no attempt was made)."""
    await record(uow, owner, [Finished.released(message_id, uow.clock.now())])


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


# A message in one of these states is done with: nothing will send or edit it again.
FINISHED = (OutboxStatus.SENT, OutboxStatus.SKIPPED, OutboxStatus.FAILED, OutboxStatus.UNREACHABLE)


async def purge_finished(uow: UnitOfWork, *, before: datetime, limit: int) -> int:
    """Deletes up to `limit` finished messages written before `before` (their delivery attempts
    go with them) and commits; returns how many. Pending ones are never touched.

    Deleting a sent message also forgets that its event was told: the retention period must
    outlast the events that could repeat (RETENTION_DAYS is at least 15). Rows another process
    is deleting at the same moment are skipped (PostgreSQL), not waited for."""
    oldest = (
        select(OutboxMessage.id)
        .where(OutboxMessage.created_at < before, OutboxMessage.status.in_(FINISHED))
        .order_by(OutboxMessage.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await uow.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.id.in_(oldest.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    await uow.commit()
    return result.rowcount
