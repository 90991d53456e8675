"""The digest job: every few minutes, today's digest for each member whose account reached its
digest hour on a working day — at most once per member per account-local day.

The once is a compare-and-set on `members.digest_sent_on` (NULL or before today → today) in the
same transaction as the outbox rows: a second run, a second process or a restart finds the
members already marked, and the outbox's unique (event key, chat) would refuse a repeat anyway.
A member with nothing to say is marked too, and told nothing. Everything is batched: a handful
of grouped queries per BATCH members, whatever the number of members.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, and_, case, func, or_, select, update

from core.accounts.models import Account
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.digest.compose import Digest, Oldest, day_bounds, due_day, owner_part
from core.journal.models import OPEN as OPEN_SERVICES
from core.journal.models import ConnectedService
from core.ledger.models import Balance
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import OWNER, Perm, parse_perms
from core.notifications import outbox
from core.orders.models import OPEN_STATUSES, Order, OrderStatus
from core.tasks.models import Task, TaskStatus

EVERY = timedelta(minutes=5)
BATCH = 5_000  # members a transaction
ACCOUNTS = 1_000  # accounts a group of batches (bounds the statements' parameters)
NONE = (0, None)


@dataclass(frozen=True, slots=True)
class _Reader:
    """Who gets a digest: what the compare-and-set returned, with what composing needs."""

    member_id: int
    account_id: int
    telegram_id: int
    locale: str | None
    is_owner: bool
    may_claim: bool


def _wants(today: date):
    """The members still owed today's digest."""
    return (
        Member.digest.is_(True),
        Member.status == MemberStatus.ACTIVE,
        Member.unreachable.is_(False),
        or_(Member.digest_sent_on.is_(None), Member.digest_sent_on < today),
    )


async def _claim(uow: UnitOfWork, account_ids: list[int], today: date) -> list[_Reader]:
    """Marks up to BATCH members of these accounts as sent `today`, in one statement; returns
    the ones this run won. PostgreSQL: rows another process holds are skipped, not waited for
    (theirs to send); SQLite has one writer."""
    owed = (
        select(Member.id)
        .where(Member.account_id.in_(account_ids), *_wants(today))
        .order_by(Member.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    t = Member.__table__
    won = await uow.session.execute(
        update(t)
        .where(t.c.id.in_(owed.scalar_subquery()), *_wants(today))
        .values(digest_sent_on=today)
        .returning(t.c.id, t.c.account_id, t.c.telegram_id, t.c.locale, t.c.role_id)
    )
    won = won.all()
    roles = {  # role → (is the owner, may claim)
        r.id: (r.code == OWNER, Perm.ORDERS_CLAIM in parse_perms(r.permissions))
        for r in await uow.session.execute(
            select(Role.id, Role.code, Role.permissions).where(
                Role.id.in_({w.role_id for w in won})
            )
        )
    }
    return [_Reader(w.id, w.account_id, w.telegram_id, w.locale, *roles[w.role_id]) for w in won]


def _oldest_first(query: Select, partition) -> Select:
    """Each partition's oldest row (rank 1) with the partition's size."""
    ranked = query.add_columns(
        func.row_number()
        .over(partition_by=partition, order_by=(Order.created_at, Order.id))
        .label("rank"),
        func.count().over(partition_by=partition).label("size"),
    ).subquery()
    return select(ranked).where(ranked.c.rank == 1)


async def _open_orders(uow, account_ids, member_ids) -> dict[int, tuple[int, Oldest]]:
    query = select(Order.assignee_id.label("key"), Order.number, Order.created_at).where(
        Order.account_id.in_(account_ids),
        Order.assignee_id.in_(member_ids),
        Order.status.in_(OPEN_STATUSES),
    )
    rows = await uow.session.execute(_oldest_first(query, Order.assignee_id))
    return {r.key: (r.size, Oldest(r.number, _utc(r.created_at))) for r in rows}


async def _waiting(uow, account_ids) -> dict[int, tuple[int, Oldest]]:
    query = select(Order.account_id.label("key"), Order.number, Order.created_at).where(
        Order.account_id.in_(account_ids),
        Order.assignee_id.is_(None),
        Order.status == OrderStatus.NEW,
    )
    rows = await uow.session.execute(_oldest_first(query, Order.account_id))
    return {r.key: (r.size, Oldest(r.number, _utc(r.created_at))) for r in rows}


def _utc(moment: datetime) -> datetime:
    """A subquery's column comes back as the driver gives it (SQLite: naive UTC)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _tasks(uow, account_ids, member_ids, now, tomorrow) -> dict[int, tuple[int, int]]:
    """(due later today, overdue) open tasks per assignee."""
    overdue = func.sum(case((Task.due_at < now, 1), else_=0))
    rows = await uow.session.execute(
        select(Task.assignee_id, func.count(), overdue)
        .where(
            Task.account_id.in_(account_ids),
            Task.assignee_id.in_(member_ids),
            Task.status == TaskStatus.OPEN,
            Task.due_at < tomorrow,
        )
        .group_by(Task.assignee_id)
    )
    return {member: (count - late, late) for member, count, late in rows}


async def _yesterday(uow, account_ids, member_ids, start, end) -> dict[int, tuple[int, int, int]]:
    """(taken into work, completed, revenue in the account's currency) per assignee, one pass."""
    taken = and_(Order.claimed_at >= start, Order.claimed_at < end)
    done = and_(
        Order.status == OrderStatus.COMPLETED, Order.completed_at >= start, Order.completed_at < end
    )
    rows = await uow.session.execute(
        select(
            Order.assignee_id,
            func.sum(case((taken, 1), else_=0)),
            func.sum(case((done, 1), else_=0)),
            func.sum(case((and_(done, Order.currency == Account.currency), Order.total), else_=0)),
        )
        .join(Account, Account.id == Order.account_id)
        .where(
            Order.account_id.in_(account_ids),
            Order.assignee_id.in_(member_ids),
            or_(taken, done),
        )
        .group_by(Order.assignee_id)
    )
    return {m: (int(n or 0), int(d or 0), int(r or 0)) for m, n, d, r in rows}


async def _owner_parts(uow, accounts: dict[int, Account], today: date) -> dict:
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


async def _compose(
    uow: UnitOfWork, readers: list[_Reader], accounts: dict[int, Account], today: date, tz: str
) -> list[Digest]:
    now = uow.clock.now()
    yesterday, start, tomorrow = (m.astimezone(UTC) for m in day_bounds(today, tz))
    account_ids = sorted({r.account_id for r in readers})
    member_ids = [r.member_id for r in readers]
    opened = await _open_orders(uow, account_ids, member_ids)
    waiting = await _waiting(uow, sorted({r.account_id for r in readers if r.may_claim}))
    tasks = await _tasks(uow, account_ids, member_ids, now, tomorrow)
    results = await _yesterday(uow, account_ids, member_ids, yesterday, start)
    owned = {r.account_id: accounts[r.account_id] for r in readers if r.is_owner}
    owners = await _owner_parts(uow, owned, today)
    digests = []
    for r in readers:
        count, oldest = opened.get(r.member_id, NONE)
        waits, first = waiting.get(r.account_id, NONE) if r.may_claim else NONE
        today_n, late = tasks.get(r.member_id, (0, 0))
        taken, done, revenue = results.get(r.member_id, (0, 0, 0))
        digests.append(
            Digest(
                r.member_id,
                today,
                tz,
                accounts[r.account_id].currency,
                open_orders=count,
                oldest_open=oldest,
                waiting=waits,
                oldest_waiting=first,
                tasks_today=today_n,
                tasks_overdue=late,
                claimed=taken,
                completed=done,
                revenue=revenue,
                owner=owners.get(r.account_id) if r.is_owner else None,
            )
        )
    return digests


async def _enqueue(
    uow: UnitOfWork, readers: list[_Reader], digests: list[Digest], accounts: dict[int, Account]
) -> int:
    by_account: dict[int, list[outbox.Personal]] = defaultdict(list)
    for reader, digest in zip(readers, digests, strict=True):
        if digest.says_anything:
            account = accounts[reader.account_id]
            to = outbox.Recipient(
                reader.telegram_id, reader.locale or account.locale, reader.member_id
            )
            event = outbox.Event(digest.event_key, "digest", digest.params())
            by_account[reader.account_id].append(outbox.Personal(event, to))
    sent = 0
    for account_id, messages in by_account.items():
        # Quiet hours hold it: a digest hour inside them goes out when they end.
        sent += await outbox.enqueue_personal(uow, account=accounts[account_id], messages=messages)
    return sent


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
    """Batch after batch of these accounts' members, one transaction each."""
    total = 0
    while True:
        async with uows() as uow:
            readers = await _claim(uow, list(by_id), today)
            if readers:
                digests = await _compose(uow, readers, by_id, today, tz)
                total += await _enqueue(uow, readers, digests, by_id)
            await uow.commit()
        if len(readers) < BATCH:  # the rest is done, or another process is at it
            return total
