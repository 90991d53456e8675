"""The digest job: every few minutes, today's digest for each member whose account reached its
digest hour on a working day — at most once per member per account-local day.

The once is a compare-and-set on `members.digest_sent_on` (NULL or before today → today) in the
same transaction as the outbox rows: a second run, a second process or a restart finds the
members already marked, and the outbox's unique (event key, chat) would refuse a repeat anyway.
A member with nothing to say is marked too, and told nothing. Everything is batched, and
composed by the database: per BATCH members one marking UPDATE … RETURNING and one INSERT …
SELECT over the members it returned, which counts each member's figures (grouped over the
batch's accounts), builds the outbox row's parameters as JSON and leaves out members with
nothing to say. On PostgreSQL the two are one statement (a data-modifying WITH,
`outbox.enqueue_claimed`): the marked members never travel to Python and back, and the figures
are counted for the batch's members only, so two such transactions run at once (WORKERS), each
with its share, on two backends. Python only counts who is owed (nothing owed: no statement at
all) and works out the owner's part (the runway, as /balance does), once an account.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    String,
    Subquery,
    Update,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)

from core.accounts.models import Account
from core.db.sql import among, iso_utc, json_object, json_value
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.digest.compose import OwnerPart, day_bounds, due_day, owner_part
from core.journal.models import OPEN as OPEN_SERVICES
from core.journal.models import ConnectedService
from core.ledger.models import Balance
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import OWNER, Perm, parse_perms
from core.notifications import outbox
from core.notifications.models import OutboxMessage
from core.orders.models import OPEN_STATUSES, Order, OrderStatus
from core.tasks.models import Task, TaskStatus

EVERY = timedelta(minutes=5)
BATCH = 10_000  # members a transaction at most (one list of their ids per statement)
WORKERS = 2  # transactions at once on PostgreSQL, each with its share of the owed members
SHARE = 1_000  # members a worker at least: a smaller share is not worth a second transaction
ACCOUNTS = 1_000  # accounts a group of batches (bounds the statements' parameters)


def _wants(today: date):
    """The members still owed today's digest."""
    return (
        Member.digest.is_(True),
        Member.status == MemberStatus.ACTIVE,
        Member.unreachable.is_(False),
        or_(Member.digest_sent_on.is_(None), Member.digest_sent_on < today),
    )


def _claim(account_ids: list[int], today: date, size: int) -> Update:
    """Marks up to `size` members of these accounts as sent `today`, in one statement, returning
    the ones this run won (id, account_id, role_id, telegram_id, locale). PostgreSQL: rows
    another process holds are skipped, not waited for (theirs to send); SQLite has one writer."""
    owed = (
        select(Member.id)
        .where(Member.account_id.in_(account_ids), *_wants(today))
        .order_by(Member.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    t = Member.__table__
    return (
        update(t)
        .where(t.c.id.in_(owed.scalar_subquery()), *_wants(today))
        .values(digest_sent_on=today)
        .returning(t.c.id, t.c.account_id, t.c.role_id, t.c.telegram_id, t.c.locale)
    )


@dataclass(frozen=True, slots=True)
class _Roles:
    """The batch's accounts' roles: the owners' and the ones that may claim orders."""

    owner: list[int]
    claim: list[int]


async def _roles(uow: UnitOfWork, account_ids: list[int]) -> _Roles:
    owner, claim = [], []
    for r in await uow.session.execute(
        select(Role.id, Role.code, Role.permissions).where(Role.account_id.in_(account_ids))
    ):
        if r.code == OWNER:
            owner.append(r.id)
        if Perm.ORDERS_CLAIM in parse_perms(r.permissions):
            claim.append(r.id)
    return _Roles(owner, claim)


def _counted(key, *where) -> Subquery:
    """Orders matching `where` per `key`: how many, and when the oldest arrived."""
    return (
        select(
            key.label("key"),
            func.count().label("size"),
            func.min(Order.created_at).label("first"),
        )
        .where(*where)
        .group_by(key)
        .subquery()
    )


def _oldest(uow: UnitOfWork, counted: Subquery, *where) -> ColumnElement:
    """The oldest of the counted orders as {number, since}, or null: its number looked up by
    the index on (account, assignee or status, created_at, id)."""
    number = (
        select(Order.number)
        .where(*where, Order.created_at == counted.c.first)
        .order_by(Order.id)
        .limit(1)
        .scalar_subquery()
    )
    oldest = json_object(uow, "number", number, "since", iso_utc(uow, counted.c.first))
    return json_value(uow, case((counted.c.key.is_not(None), oldest)))


def _open(account_ids, assignee=None):
    """Open orders of these accounts: one assignee's, or everyone's."""
    mine = Order.assignee_id.is_not(None) if assignee is None else Order.assignee_id == assignee
    return (Order.account_id.in_(account_ids), mine, Order.status.in_(OPEN_STATUSES))


def _among(column, src: FromClause | None):
    """`column` is one of the batch's members (`src`), or any member when `src` is None."""
    return column.is_not(None) if src is None else column.in_(select(src.c.id))


def _unclaimed(account_ids):
    return (
        Order.account_id.in_(account_ids),
        Order.status == OrderStatus.NEW,
        Order.assignee_id.is_(None),
    )


def _tasks(account_ids, now, tomorrow, src: FromClause | None) -> Subquery:
    """(open tasks due by tomorrow, of them overdue) per assignee."""
    return (
        select(
            Task.assignee_id.label("key"),
            func.count().label("due"),
            func.sum(case((Task.due_at < now, 1), else_=0)).label("late"),
        )
        .where(
            Task.account_id.in_(account_ids),
            _among(Task.assignee_id, src),
            Task.status == TaskStatus.OPEN,
            Task.due_at < tomorrow,
        )
        .group_by(Task.assignee_id)
        .subquery()
    )


def _yesterday(account_ids, start, end, src: FromClause | None) -> Subquery:
    """(taken into work, completed, revenue in the account's currency) per assignee, one pass."""
    taken = and_(Order.claimed_at >= start, Order.claimed_at < end)
    done = and_(
        Order.status == OrderStatus.COMPLETED, Order.completed_at >= start, Order.completed_at < end
    )
    revenue = case((and_(done, Order.currency == Account.currency), Order.total), else_=0)
    return (
        select(
            Order.assignee_id.label("key"),
            func.sum(case((taken, 1), else_=0)).label("taken"),
            func.sum(case((done, 1), else_=0)).label("done"),
            func.sum(revenue).label("revenue"),
        )
        .join(Account, Account.id == Order.account_id)
        .where(
            Order.account_id.in_(account_ids),
            _among(Order.assignee_id, src),
            or_(taken, done),
        )
        .group_by(Order.assignee_id)
        .subquery()
    )


async def _owner_parts(uow, accounts: dict[int, Account], today: date) -> dict[int, OwnerPart]:
    """The owner's part per account: two queries for all of them."""
    if not accounts:
        return {}
    ids = list(accounts)
    balances = dict(
        (
            await uow.session.execute(
                select(Balance.account_id, Balance.amount).where(Balance.account_id.in_(ids))
            )
        ).all()
    )
    services: dict[int, list[ConnectedService]] = defaultdict(list)
    for service in await uow.session.scalars(
        select(ConnectedService)
        .where(ConnectedService.account_id.in_(ids), ConnectedService.status.in_(OPEN_SERVICES))
        .order_by(ConnectedService.id)
    ):
        services[service.account_id].append(service)
    return {
        a: owner_part(account, balances.get(a, 0), services[a], today)
        for a, account in accounts.items()
    }


@dataclass(frozen=True, slots=True)
class _Owed:
    """The members of a group of accounts still owed today's digest: how many, and the
    accounts whose owner is among them."""

    members: int
    owners: list[int]


async def _owed(uow: UnitOfWork, account_ids: list[int], today: date) -> _Owed:
    """One GROUP BY (account, owner or not): nothing owed, nothing more to do."""
    is_owner = (Role.code == OWNER).label("owner")
    counted = await uow.session.execute(
        select(Member.account_id, is_owner, func.count().label("members"))
        .join(Role, Role.id == Member.role_id)
        .where(Member.account_id.in_(account_ids), *_wants(today))
        .group_by(Member.account_id, is_owner)
    )
    members, owners = 0, []
    for r in counted:
        members += r.members
        if r.owner:
            owners.append(r.account_id)
    return _Owed(members, owners)


async def _messages(
    uow: UnitOfWork,
    accounts: dict[int, Account],
    owed: _Owed,
    today: date,
    tz: str,
    per_batch: bool,
) -> Callable[[FromClause], Select]:
    """The SELECT of the outbox rows for the members of `src` (a table of marked members: id,
    account_id, role_id, telegram_id, locale), composed by the database: their figures grouped
    over the batch's accounts (`per_batch`: over `src`'s members only, when `src` is the batch
    alone, as the claim's rows are), the parameters built as JSON, members with nothing to say
    left out, quiet hours holding each account's rows. Python works out the owner's part, once an
    account whose owner is still owed the digest."""
    now = uow.clock.now()
    yesterday, start, tomorrow = (m.astimezone(UTC) for m in day_bounds(today, tz))
    ids = sorted(accounts)
    roles = await _roles(uow, ids)
    owners = await _owner_parts(uow, {a: accounts[a] for a in owed.owners}, today)
    waiting = _counted(Order.account_id, *_unclaimed(ids))
    # Quiet hours hold it: a digest hour inside them goes out when they end.
    released: dict[datetime, list[int]] = defaultdict(list)
    for account in accounts.values():
        released[outbox.release_time(account, now)].append(account.id)
    held_type = OutboxMessage.__table__.c.not_before.type

    def rows(src: FromClause) -> Select:
        m = src.c
        batch = src if per_batch else None
        opened = _counted(Order.assignee_id, *_open(ids), _among(Order.assignee_id, batch))
        tasks = _tasks(ids, now, tomorrow, batch)
        results = _yesterday(ids, yesterday, start, batch)
        may_claim = m.role_id.in_(roles.claim)
        is_owner = m.role_id.in_(roles.owner)
        n = func.coalesce
        owner = literal(None, String)
        if owners:
            parts = {a: json.dumps(part.params()) for a, part in owners.items()}
            owner = case((is_owner, json_value(uow, case(parts, value=m.account_id))))
        waits = case((may_claim, n(waiting.c.size, 0)), else_=0)
        late = n(tasks.c.late, 0)
        figures = {
            "day": today.isoformat(),
            "tz": tz,
            "currency": Account.currency,
            "open": n(opened.c.size, 0),
            "oldest_open": _oldest(uow, opened, *_open([m.account_id], m.id)),
            "waiting": waits,
            "oldest_waiting": case((may_claim, _oldest(uow, waiting, *_unclaimed([m.account_id])))),
            "tasks_today": n(tasks.c.due, 0) - late,
            "tasks_overdue": late,
            "claimed": n(results.c.taken, 0),
            "completed": n(results.c.done, 0),
            "revenue": n(results.c.revenue, 0),
            "owner": owner,
        }
        params = json_object(uow, *(x for pair in figures.items() for x in pair))
        news = [a for a, part in owners.items() if part.says_anything]
        says_anything = or_(
            n(opened.c.size, 0) > 0,
            waits > 0,
            n(tasks.c.due, 0) > 0,
            n(results.c.taken, 0) > 0,
            n(results.c.done, 0) > 0,
            and_(is_owner, m.account_id.in_(news)),
        )
        key = (
            literal("digest:", String)
            + cast(m.id, String)
            + literal(f":{today.isoformat()}", String)
        )
        held = [(m.account_id.in_(group), literal(at, held_type)) for at, group in released.items()]
        return (
            select(
                m.account_id.label("account_id"),
                key.label("event_key"),
                m.telegram_id.label("chat_id"),
                m.id.label("member_id"),
                literal("digest", String).label("kind"),
                params.label("params"),
                n(m.locale, Account.locale).label("locale"),
                (held[0][1] if len(held) == 1 else case(*held)).label("not_before"),
            )
            .select_from(src)
            .join(Account, Account.id == m.account_id)
            .outerjoin(opened, opened.c.key == m.id)
            .outerjoin(waiting, waiting.c.key == m.account_id)
            .outerjoin(tasks, tasks.c.key == m.id)
            .outerjoin(results, results.c.key == m.id)
            .where(says_anything)
            .order_by(m.id)
        )

    return rows


async def _send_batch(
    uow: UnitOfWork, accounts: dict[int, Account], today: date, tz: str, size: int
) -> tuple[int, bool]:
    """Marks the next `size` members owed today's digest and writes their digests: (digests
    written, whether more may be owed). PostgreSQL: one statement does both
    (`outbox.enqueue_claimed`), the figures counted for the batch's members only; SQLite: the
    marking, then the INSERT … SELECT of the members it returned."""
    owed = await _owed(uow, list(accounts), today)
    if not owed.members:
        return 0, False
    claim = _claim(list(accounts), today, size)
    one_statement = outbox.claims_and_enqueues(uow)
    rows = await _messages(uow, accounts, owed, today, tz, per_batch=one_statement)
    if one_statement:
        won, sent = await outbox.enqueue_claimed(uow, claim, rows)
    else:
        marked = [w.id for w in await uow.session.execute(claim)]
        members = Member.__table__
        won, sent = len(marked), 0
        if marked:
            sent = await outbox.enqueue_select(
                uow, rows(members).where(among(uow, members.c.id, marked))
            )
    # Fewer than a batch: the rest is done, or another worker or process is at it.
    return sent, won == size and owed.members > won


def _groups(accounts: Iterable[Account], now: datetime) -> dict[tuple[str, date], list[Account]]:
    """Due accounts by (zone, local day): one set of day boundaries per group."""
    groups: dict[tuple[str, date], list[Account]] = defaultdict(list)
    for account in accounts:
        today = due_day(account, now)
        if today is not None:
            groups[(account.timezone, today)].append(account)
    return groups


async def send_digests(uows: UnitOfWorkFactory) -> int:
    """The scheduled job: returns how many digests it put in the outbox."""
    async with uows() as uow:
        accounts = list(await uow.session.scalars(select(Account).order_by(Account.id)))
        groups = _groups(accounts, uow.clock.now())
    total = 0
    for (tz, today), due in groups.items():
        for at in range(0, len(due), ACCOUNTS):
            total += await _send_group(uows, {a.id: a for a in due[at : at + ACCOUNTS]}, today, tz)
    return total


async def _send_group(
    uows: UnitOfWorkFactory, by_id: dict[int, Account], today: date, tz: str
) -> int:
    """Batch after batch of these accounts' members, one transaction each. On PostgreSQL up to
    WORKERS transactions at once, each claiming its own batch (the claim skips the members
    another holds), so the database works on both halves with two backends; SQLite has one
    writer, and one worker."""
    async with uows() as uow:
        owed = (await _owed(uow, list(by_id), today)).members
        workers = WORKERS if outbox.claims_and_enqueues(uow) else 1
    if not owed:
        return 0
    workers = max(1, min(workers, owed // SHARE))
    size = min(BATCH, -(-owed // workers))

    async def drain() -> int:
        total = 0
        while True:
            async with uows() as uow:
                sent, more = await _send_batch(uow, by_id, today, tz, size)
                total += sent
                await uow.commit()
            if not more:
                return total

    if workers == 1:
        return await drain()
    async with asyncio.TaskGroup() as group:  # one worker failing stops the other
        drains = [group.create_task(drain()) for _ in range(workers)]
    return sum(d.result() for d in drains)
