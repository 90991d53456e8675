"""The order board (the Mini App): open orders in columns, counted, filtered and searched.

Rows are summaries, as in /orders: a card with customer details comes from
`core.orders.service.order_card`, which decides what the member may see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    Select,
    String,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
    union_all,
)

from core.db.uow import UnitOfWork
from core.errors import InvalidInput, PermissionDenied
from core.journal.billing import BalanceOverview, balance_overview
from core.journal.service import Journal, journal
from core.members.actor import Actor
from core.members.models import Member, MemberStatus
from core.members.permissions import Perm, parse_perms
from core.orders import claims
from core.orders.models import CLOSED_STATUSES, OPEN_STATUSES, Order, OrderStatus
from core.orders.search import find_orders
from core.orders.service import OrderLog, order_card, order_log
from core.orders.views import OrderAction, OrderCard, OrderSummary
from core.reports.periods import PeriodKind, local_today, period_of
from core.reports.service import SalesReport, sales_report
from core.tasks.service import order_tasks
from core.tasks.views import TaskRow

COLUMN_SIZE = 50


class Column(StrEnum):
    NEW = "new"  # open and unassigned: to be claimed
    IN_PROGRESS = "in_progress"  # open and assigned
    DONE_TODAY = "done_today"  # completed since the account's midnight (searching: closed ones)


class Scope(StrEnum):
    MINE = "mine"  # my orders (the New column always shows what may be claimed)
    TEAM = "team"  # everyone's: summaries, in full for orders.view_all ("All")


@dataclass(frozen=True, slots=True)
class BoardRow:
    order: OrderSummary
    stale: bool  # unclaimed past the account's claim time (core.orders.claims.overdue_test)


@dataclass(frozen=True, slots=True)
class BoardColumn:
    column: Column
    count: int  # at most COUNT_CAP + 1: more than COUNT_CAP
    rows: list[BoardRow]


@dataclass(frozen=True, slots=True)
class Manager:
    member_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Board:
    scope: Scope
    scopes: tuple[Scope, ...]
    columns: tuple[BoardColumn, ...]
    full_view: bool  # orders.view_all: "All" rather than "Team"
    managers: tuple[Manager, ...]  # for the by-manager filter (members with orders.view_all)
    manager_id: int | None
    query: str | None


def scopes_for(actor: Actor) -> tuple[Scope, ...]:
    scopes = []
    if actor.can(Perm.ORDERS_VIEW_OWN):
        scopes.append(Scope.MINE)
    if actor.can(Perm.ORDERS_VIEW_TEAM) or actor.can(Perm.ORDERS_VIEW_ALL):
        scopes.append(Scope.TEAM)
    return tuple(scopes)


def _sees_unassigned(actor: Actor) -> bool:
    seeing = (Perm.ORDERS_CLAIM, Perm.ORDERS_VIEW_TEAM, Perm.ORDERS_VIEW_ALL)
    return any(actor.can(p) for p in seeing)


def _midnight(actor: Actor, now: datetime) -> datetime:
    zone = ZoneInfo(actor.timezone)
    return datetime.combine(now.astimezone(zone).date(), time(), zone)


# A column's count stops here: the header then reads "1000+" (counting a column of tens of
# thousands would cost more than the rest of the board together).
COUNT_CAP = 1000
_STATUSES = {status.value: status for status in OrderStatus}


def _where(column: Column, by_assignee: bool, status: OrderStatus | None = None) -> list:
    where = [Order.account_id == bindparam("account_id")]
    if column is Column.DONE_TODAY:
        where += [
            Order.status == OrderStatus.COMPLETED,
            Order.completed_at >= bindparam("since"),
        ]
    else:
        statuses = OPEN_STATUSES if status is None else (status,)
        where.append(Order.status.in_(statuses) if len(statuses) > 1 else Order.status == status)
        if column is Column.NEW:
            where.append(Order.assignee_id.is_(None))
        elif by_assignee:
            where.append(Order.assignee_id.is_not(None))
        else:
            # "+ 0" keeps this test off the index: SQLite (no statistics) would otherwise walk
            # ix_orders_waiting through every assigned order, closed ones included, where
            # ix_orders_status_feed reads the open ones alone (0.6 → 0.14 ms at 100,000).
            where.append(Order.assignee_id.op("+")(literal_column("0")).is_not(None))
    if by_assignee:
        where.append(Order.assignee_id == bindparam("assignee_id"))
    return where


@cache
def _count_query(column: Column, by_assignee: bool) -> Select:
    """How many orders a column holds, up to COUNT_CAP + 1 (more reads as "COUNT_CAP+")."""
    capped = select(Order.id).where(*_where(column, by_assignee)).limit(COUNT_CAP + 1).subquery()
    return select(func.count()).select_from(capped)


@cache
def _column_query(column: Column, by_assignee: bool) -> Select:
    """One column's newest rows, built once per shape; each call only binds values.

    In progress is picked per status (newest first by the status index) and merged: one
    ORDER BY over both open statuses walks the account's orders newest first, closed ones
    included. New (unassigned) reads the assignee index, Done today the completion index."""
    fields = (
        literal(column.value).label("board_column"),
        # Only for ordering the merged columns in SQL: read as it is stored, not as a datetime.
        type_coerce(
            Order.completed_at if column is Column.DONE_TODAY else Order.created_at, String
        ).label("sort_at"),
        # Uncorrelated: counted once per statement (SQLite and PostgreSQL alike), not per row.
        _count_query(column, by_assignee).scalar_subquery().label("column_count"),
        Order.id,
        Order.number,
        Order.status,
        Order.total,
        Order.currency,
        Order.assignee_id,
        Order.created_at,
        Member.username,
        Member.full_name,
    )
    if column is not Column.IN_PROGRESS:
        # Done today: by completion time alone, so the completion index hands the newest over
        # in order and the scan stops at the limit (an id tiebreak sorted all of today's).
        order = (
            (Order.completed_at.desc(),)
            if column is Column.DONE_TODAY
            else (Order.created_at.desc(), Order.id.desc())
        )
        return (
            select(*fields)
            .outerjoin(Member, Member.id == Order.assignee_id)
            .where(*_where(column, by_assignee))
            .order_by(*order)
            .limit(bindparam("limit"))
        )
    parts = [
        select(Order.id, Order.created_at)
        .where(*_where(column, by_assignee, status))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(bindparam("limit"))
        .subquery()
        for status in OPEN_STATUSES
    ]
    picked = union_all(*(select(part.c.id, part.c.created_at) for part in parts)).subquery()
    # From the picked ids (at most twice `limit`) to their rows, sorted among themselves.
    return (
        select(*fields)
        .select_from(picked)
        .join(Order, Order.id == picked.c.id)
        .outerjoin(Member, Member.id == Order.assignee_id)
        .order_by(picked.c.created_at.desc(), picked.c.id.desc())
        .limit(bindparam("limit"))
    )


Late = Callable[[datetime], bool]  # whether an unclaimed order created then is past its time


def _row(order: OrderSummary, late: Late) -> BoardRow:
    stale = order.assignee_id is None and order.status in OPEN_STATUSES
    return BoardRow(order, stale and late(order.created_at))


async def _managers(uow: UnitOfWork, actor: Actor) -> tuple[Manager, ...]:
    if not actor.can(Perm.ORDERS_VIEW_ALL):
        return ()
    members = await uow.session.scalars(
        select(Member)
        .where(Member.account_id == actor.account_id, Member.status == MemberStatus.ACTIVE)
        .order_by(Member.full_name, Member.id)
    )
    return tuple(
        Manager(m.id, m.display_name)
        for m in members
        if Perm.ORDERS_VIEW_OWN in parse_perms(m.role.permissions)
    )


async def board(
    uow: UnitOfWork,
    actor: Actor,
    scope: Scope | None = None,
    *,
    manager_id: int | None = None,
    query: str | None = None,
    limit: int = COLUMN_SIZE,
) -> Board:
    """The columns New · In progress · Done today, newest first, at most `limit` rows each,
    with their full counts. Mine: my orders (and the unassigned ones to claim); Team: all.
    The by-manager filter is for members who see every order in full."""
    scopes = scopes_for(actor)
    if not scopes:
        raise PermissionDenied(permission=Perm.ORDERS_VIEW_OWN.value)
    scope = scope or scopes[0]
    if scope not in scopes:
        raise PermissionDenied(permission=Perm.ORDERS_VIEW_TEAM.value)
    if manager_id is not None and not actor.can(Perm.ORDERS_VIEW_ALL):
        raise PermissionDenied(permission=Perm.ORDERS_VIEW_ALL.value)
    assignee = actor.member_id if scope is Scope.MINE else manager_id
    limit = max(1, min(limit, 200))
    now = uow.clock.now()
    query = (query or "").strip() or None
    late = claims.overdue_test(await claims.hours_of(uow, actor), now)
    if query is not None:
        columns = await _searched(uow, actor, query, assignee, limit, late)
    else:
        columns = await _columns(uow, actor, assignee, limit, now, late)
    return Board(
        scope=scope,
        scopes=scopes,
        columns=columns,
        full_view=actor.can(Perm.ORDERS_VIEW_ALL),
        managers=await _managers(uow, actor),
        manager_id=manager_id if scope is Scope.TEAM else None,
        query=query,
    )


@cache
def _rows_query(columns: tuple[Column, ...], by_assignee: bool) -> CompoundSelect:
    """The shown columns' rows in one statement (each column's newest, tagged with it)."""
    parts = [
        _column_query(column, by_assignee and column is not Column.NEW).subquery()
        for column in columns
    ]
    newest = (literal_column("sort_at").desc(), literal_column("id").desc())
    return union_all(*(select(part) for part in parts)).order_by("board_column", *newest)


async def _columns(
    uow: UnitOfWork, actor: Actor, assignee: int | None, limit: int, now: datetime, late: Late
) -> tuple[BoardColumn, ...]:
    params = {
        "account_id": actor.account_id,
        "assignee_id": assignee,
        "since": _midnight(actor, now),
        "limit": limit,
    }
    shown = tuple(c for c in Column if c is not Column.NEW or _sees_unassigned(actor))
    by_assignee = assignee is not None
    found: dict[str, list[BoardRow]] = {column.value: [] for column in Column}
    counts: dict[str, int] = {}
    # One statement for the whole board: each column's newest rows, each carrying its count.
    async with uow.reading() as conn:
        result = await conn.execute(_rows_query(shown, by_assignee), params)
        for key, _, count, *order in result:
            counts[key] = count
            found[key].append(_board_row(order, key == Column.NEW.value, late))
    return tuple(BoardColumn(c, counts.get(c.value, 0), found[c.value]) for c in Column)


def _board_row(r: list, unclaimed: bool, late: Late) -> BoardRow:
    """A row of `_column_query` after its column, sort key and count (plain tuples: a board
    reads a hundred of them at every first load)."""
    oid, number, status, total, currency, assignee_id, created_at, username, full_name = r
    name = f"@{username}" if username else full_name
    order = OrderSummary(
        oid, number, _STATUSES[status], total, currency, assignee_id, name, created_at
    )
    return BoardRow(order, unclaimed and late(created_at))


async def _searched(
    uow: UnitOfWork, actor: Actor, query: str, assignee: int | None, limit: int, late: Late
) -> tuple[BoardColumn, ...]:
    found = await find_orders(uow, actor, query, limit=limit)
    buckets: dict[Column, list[BoardRow]] = {column: [] for column in Column}
    for order in found:
        if order.assignee_id is None and order.status in OPEN_STATUSES:
            if _sees_unassigned(actor):
                buckets[Column.NEW].append(_row(order, late))
        elif assignee is not None and order.assignee_id != assignee:
            continue
        elif order.status in CLOSED_STATUSES:
            buckets[Column.DONE_TODAY].append(_row(order, late))
        else:
            buckets[Column.IN_PROGRESS].append(_row(order, late))
    return tuple(BoardColumn(c, len(rows), rows) for c, rows in buckets.items())


@dataclass(frozen=True, slots=True)
class OrderView:
    """The Mini App's order card: the chat card, its tasks and its log, each as far as the
    member may see them."""

    card: OrderCard
    tasks: list[TaskRow] | None  # None: the member does not work on tasks
    log: OrderLog | None  # None: not theirs to read


async def order_view(uow: UnitOfWork, actor: Actor, order_id: int) -> OrderView:
    card = await order_card(uow, actor, order_id)
    tasks = None
    if actor.can(Perm.TASKS_MANAGE):
        tasks = (await order_tasks(uow, actor, order_id)).rows
    log = None
    if OrderAction.LOG in card.actions:
        log = await order_log(uow, actor, order_id)
    return OrderView(card, tasks, log)


@dataclass(frozen=True, slots=True)
class ServicesView:
    """The journal with the balance's runway, as /services and /balance show them."""

    journal: Journal
    balance: BalanceOverview


async def services_view(uow: UnitOfWork, actor: Actor) -> ServicesView:
    return ServicesView(await journal(uow, actor), await balance_overview(uow, actor))


REPORT_PERIODS = (PeriodKind.TODAY, PeriodKind.WEEK, PeriodKind.MONTH, PeriodKind.LAST_MONTH)


async def period_report(uow: UnitOfWork, actor: Actor, kind: PeriodKind) -> SalesReport:
    """The sales report for a named period as of the account's today (the chart's periods)."""
    if kind not in REPORT_PERIODS:
        raise InvalidInput("period_format", value=str(kind))
    today = local_today(uow.clock.now(), actor.timezone)
    return await sales_report(uow, actor, period_of(kind, today))
