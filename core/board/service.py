"""The order board (the Mini App): open orders in columns, counted, filtered and searched.

Rows are summaries, as in /orders: a card with customer details comes from
`core.orders.service.order_card`, which decides what the member may see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from functools import cache, partial
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func, select

from core.accounts.models import Account
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
    stale: bool  # unclaimed past the account's claim time (core.orders.claims.overdue)


@dataclass(frozen=True, slots=True)
class BoardColumn:
    column: Column
    count: int
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


@cache
def _column_query(column: Column, by_assignee: bool, counting: bool) -> Select:
    """One column's rows (or count), built once per shape; each call only binds values."""
    where = [Order.account_id == bindparam("account_id")]
    if column is Column.NEW:
        where += [Order.assignee_id.is_(None), Order.status.in_(OPEN_STATUSES)]
    elif column is Column.IN_PROGRESS:
        where += [Order.assignee_id.is_not(None), Order.status.in_(OPEN_STATUSES)]
    else:
        where += [
            Order.status == OrderStatus.COMPLETED,
            Order.completed_at >= bindparam("since"),
        ]
    if by_assignee:
        where.append(Order.assignee_id == bindparam("assignee_id"))
    if counting:
        return select(func.count()).select_from(Order).where(*where)
    latest = Order.completed_at if column is Column.DONE_TODAY else Order.created_at
    return (
        select(
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
        .outerjoin(Member, Member.id == Order.assignee_id)
        .where(*where)
        .order_by(latest.desc(), Order.id.desc())
        .limit(bindparam("limit"))
    )


def _summary(r) -> OrderSummary:
    name = f"@{r.username}" if r.username else r.full_name
    return OrderSummary(
        r.id,
        r.number,
        OrderStatus(r.status),
        r.total,
        r.currency,
        r.assignee_id,
        name,
        r.created_at,
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
    account = await uow.session.get(Account, actor.account_id)
    late = partial(claims.overdue, account, now=now)
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


async def _columns(
    uow: UnitOfWork, actor: Actor, assignee: int | None, limit: int, now: datetime, late: Late
) -> tuple[BoardColumn, ...]:
    params = {
        "account_id": actor.account_id,
        "assignee_id": assignee,
        "since": _midnight(actor, now),
        "limit": limit,
    }
    columns = []
    async with uow.reading() as conn:
        for column in Column:
            if column is Column.NEW and not _sees_unassigned(actor):
                columns.append(BoardColumn(column, 0, []))
                continue
            by_assignee = assignee is not None and column is not Column.NEW
            rows = (await conn.execute(_column_query(column, by_assignee, False), params)).all()
            if len(rows) < limit:
                count = len(rows)
            else:
                count = await conn.scalar(_column_query(column, by_assignee, True), params)
            summaries = [_summary(r) for r in rows]
            columns.append(BoardColumn(column, count, [_row(s, late) for s in summaries]))
    return tuple(columns)


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
