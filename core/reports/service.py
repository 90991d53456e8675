"""Sales reports per member: figures aggregated in SQL for a period of local days.

Attribution rules (docs/guide.md, Sales reports):
- Revenue and "completed" count orders in status completed whose completion time falls in the
  period, credited to the order's assignee. A completed order can't be reassigned (assigning
  refuses closed orders) and reopening clears its completion time, so the assignee stored on a
  completed order is the one who held it at completion: a reassigned order counts once, for
  whoever completed it, never for the member who had it before.
- Cancelled orders count nowhere: no revenue, not completed, not open. They are counted apart,
  per reason (`CancelledCount`), when cancelled in the period: an order's last change is its
  cancellation, as a cancelled order is not edited until an admin reopens it.
- "Open" counts orders created in the period that are still new or in progress now.
- Completed orders with no assignee (an admin closed them) form an "unassigned" row in team
  reports; money is summed in the account's currency, other currencies are only counted.
- Speed, per member: the median time to claim of orders first taken into work in the period
  (working time, as the claim timer counts it: core.accounts.hours; stored when the order is
  claimed or assigned, with the account's hours of that moment), and the median time from that
  to completion of orders completed in the period (wall time, stored with the completion:
  orders.completion_seconds), credited to the assignee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, case, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.errors import NotFound, PermissionDenied
from core.members.actor import Actor
from core.members.models import Member, MemberStatus
from core.members.permissions import Perm, parse_perms
from core.orders.models import OPEN_STATUSES, Order, OrderStatus
from core.reports.periods import Period

MEMBERS_PICKER_SIZE = 40


class Scope(StrEnum):
    TEAM = "team"  # every member (reports.team)
    OWN = "own"  # the actor's own row only (reports.own)


@dataclass(frozen=True, slots=True)
class Figures:
    completed: int = 0
    revenue: int = 0  # kopecks
    open: int = 0

    @property
    def average(self) -> int:
        """Average order value in kopecks, rounded half-up; 0 without completed orders."""
        if not self.completed:
            return 0
        return (2 * self.revenue + self.completed) // (2 * self.completed)

    def share_of(self, total_revenue: int) -> int:
        """This revenue as tenths of a percent of the total (333 = 33.3 %), rounded half-up."""
        if total_revenue <= 0:
            return 0
        return (2000 * self.revenue + total_revenue) // (2 * total_revenue)


@dataclass(frozen=True, slots=True)
class Speed:
    """Medians over the period (None: no such order)."""

    to_claim: timedelta | None = None  # created → first taken into work, in working time
    to_complete: timedelta | None = None  # taken into work → completed


@dataclass(frozen=True, slots=True)
class ReportRow:
    member_id: int | None  # None: orders without an assignee
    name: str | None
    figures: Figures
    share: int  # tenths of a percent of the total revenue
    full_name: str | None = None  # the member's name as people call them (the chart's label)
    speed: Speed = Speed()


@dataclass(frozen=True, slots=True)
class CancelledCount:
    reason: str | None  # a code of core.orders.service.CANCEL_REASONS or a member's own words
    count: int


@dataclass(frozen=True, slots=True)
class SalesReport:
    period: Period
    timezone: str
    currency: str
    scope: Scope
    member_id: int | None  # the member filter; None: everyone in scope
    member_name: str | None
    rows: list[ReportRow]
    totals: Figures
    other_currency: int  # completed orders in other currencies, left out of the money
    cancelled: tuple[CancelledCount, ...] = ()  # cancelled in the period, most frequent first

    @property
    def empty(self) -> bool:
        return not self.totals.completed and not self.totals.open and not self.other_currency


@dataclass(frozen=True, slots=True)
class ReportOrder:
    number: str
    status: OrderStatus
    assignee: str | None
    total: int
    currency: str
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReportMember:
    member_id: int
    name: str


# ---- permissions -----------------------------------------------------------------------------


def report_scope(actor: Actor, member_id: int | None) -> tuple[Scope, int | None]:
    """Managers see their own figures only; reports.team opens everyone's."""
    if actor.can(Perm.REPORTS_TEAM):
        return Scope.TEAM, member_id
    if actor.can(Perm.REPORTS_OWN):
        if member_id is not None and member_id != actor.member_id:
            raise PermissionDenied("report_own_only")
        return Scope.OWN, actor.member_id
    raise PermissionDenied(permission=Perm.REPORTS_OWN.value)


async def _member_name(uow: UnitOfWork, actor: Actor, member_id: int) -> str:
    member = await uow.session.get(Member, member_id)
    if member is None or member.account_id != actor.account_id:
        raise NotFound("member_not_found", ref=str(member_id))
    return member.display_name


# ---- queries ---------------------------------------------------------------------------------


def _completed_in(start: datetime, end: datetime):
    return and_(
        Order.status == OrderStatus.COMPLETED,
        Order.completed_at >= start,
        Order.completed_at < end,
    )


def _open_from(start: datetime, end: datetime):
    return and_(Order.status.in_(OPEN_STATUSES), Order.created_at >= start, Order.created_at < end)


def _scoped(query, actor: Actor, member_id: int | None):
    query = query.where(Order.account_id == actor.account_id)
    if member_id is not None:
        query = query.where(Order.assignee_id == member_id)
    return query


MEMBER_KEY = 1 << 32  # SQLite: a member's values sort together as member_id · 2³² + seconds
# (member ids stay far below 2³¹, so the packed values fit SQLite's 64-bit integers)


def _median_of(sqlite: bool, seconds):
    """An aggregate for the median of `seconds` (an integer expression, 0 ≤ seconds < 2³²)
    over each assignee's orders (NULLs skipped): the lower middle value, the
    ((n + 1) // 2)-th smallest, as statistics.median_low picks it; `_medians_in` reads it.

    PostgreSQL picks it itself (percentile_disc; the query groups by assignee). SQLite has no
    percentile function, and its window functions (row_number() and count() over each
    assignee, the median row kept) cost ≈1.5 µs a row — 30–40 ms for a month of 20,000
    orders: the values come back in one string, each as member_id · 2³² + seconds, so a query
    that needs no GROUP BY of its own needs no sort either, and `_lower_middles` picks them."""
    if sqlite:
        return func.group_concat(Order.assignee_id * MEMBER_KEY + seconds)
    return func.percentile_disc(0.5).within_group(seconds)


def _medians_in(sqlite: bool, assignee: int | None, value) -> dict[int, timedelta]:
    """What `_median_of` gave for one result row, per member."""
    if value is None:
        return {}
    if sqlite:
        return _lower_middles(value)
    return {assignee: timedelta(seconds=int(value))} if assignee is not None else {}


def _lower_middles(packed: str) -> dict[int, timedelta]:
    """The median of each member's values in "member_id · 2³² + seconds, …".

    numpy parses and sorts them (≈1.3 ms for 25,000 values; int() and sorted() took ≈8 ms).
    Imported here, on the first report, not at start (≈15 MB resident)."""
    import numpy as np

    keys = np.sort(np.fromstring(packed, dtype=np.int64, sep=","))
    members = keys // MEMBER_KEY
    starts = np.flatnonzero(np.concatenate(([True], members[1:] != members[:-1])))
    ends = np.append(starts[1:], len(keys))
    middles = starts + (ends - starts - 1) // 2
    return {int(members[i]): timedelta(seconds=int(keys[i] % MEMBER_KEY)) for i in middles.tolist()}


async def _figures(
    conn: AsyncConnection, actor: Actor, member_id: int | None, currency: str, start, end
) -> tuple[dict[int | None, Figures], int, dict[int, timedelta]]:
    """Per assignee: completed and revenue, open; completed orders in other currencies counted;
    the median time from claim to completion of the orders completed in the period.

    Two GROUP BYs: completed orders by assignee (one pass over the covering ix_orders_completed
    serves the money, the other-currency count and the median to completion; grouping by the
    currency too made SQLite sort on two keys, ≈20 % slower), open ones by assignee."""
    sqlite = conn.dialect.name == "sqlite"
    in_currency = Order.currency == currency
    completed = await conn.execute(
        _scoped(
            select(
                Order.assignee_id,
                func.count(),
                func.count(case((in_currency, 1))),
                func.sum(case((in_currency, Order.total))),
                _median_of(sqlite, Order.completion_seconds),
            ),
            actor,
            member_id,
        )
        .where(_completed_in(start, end))
        .group_by(Order.assignee_id)
    )
    by_member: dict[int | None, Figures] = {}
    to_complete: dict[int, timedelta] = {}
    other = 0
    for assignee, every, count, revenue, took in completed:
        other += every - count
        if count:
            by_member[assignee] = Figures(completed=count, revenue=int(revenue or 0))
        to_complete.update(_medians_in(sqlite, assignee, took))
    # Grouped by an expression, not the column: without statistics SQLite would read every
    # order of the account in assignee order (ix_orders_assignee_feed) just to skip sorting a
    # few groups, instead of the open orders of the period (ix_orders_status_feed, which covers
    # the assignee: no order row is read).
    assignee = (Order.assignee_id + literal_column("0")).label("assignee")
    still_open = await conn.execute(
        _scoped(select(assignee, func.count()), actor, member_id)
        .where(_open_from(start, end))
        .group_by(assignee)
    )
    for assignee_id, count in still_open:
        known = by_member.get(assignee_id, Figures())
        by_member[assignee_id] = Figures(known.completed, known.revenue, count)
    return by_member, other, to_complete


async def _to_claim(
    conn: AsyncConnection, actor: Actor, member_id: int | None, start, end
) -> dict[int, timedelta]:
    """Per assignee, the median time to claim of the orders first taken into work in the
    period: working time, stored at the claim (orders.claim_wait_seconds), read from the
    covering ix_orders_claimed. SQLite needs no GROUP BY (the packed values carry the member),
    so no sort."""
    sqlite = conn.dialect.name == "sqlite"
    median = _median_of(sqlite, Order.claim_wait_seconds)
    query = _scoped(
        select(median) if sqlite else select(Order.assignee_id, median), actor, member_id
    ).where(Order.assignee_id.is_not(None), Order.claimed_at >= start, Order.claimed_at < end)
    if sqlite:
        return _medians_in(sqlite, None, await conn.scalar(query))
    medians: dict[int, timedelta] = {}
    for assignee, value in await conn.execute(query.group_by(Order.assignee_id)):
        medians.update(_medians_in(sqlite, assignee, value))
    return medians


async def _cancelled(
    conn: AsyncConnection, actor: Actor, member_id: int | None, start, end
) -> tuple[CancelledCount, ...]:
    """Orders cancelled in the period (by their last change) per reason, most frequent first."""
    rows = await conn.execute(
        _scoped(select(Order.cancel_reason, func.count()), actor, member_id)
        .where(
            Order.status == OrderStatus.CANCELLED,
            Order.updated_at >= start,
            Order.updated_at < end,
        )
        .group_by(Order.cancel_reason)
    )
    counts = [CancelledCount(reason, count) for reason, count in rows]
    return tuple(sorted(counts, key=lambda c: (-c.count, c.reason or "")))


async def _team(uow: UnitOfWork, actor: Actor, ids: set[int]) -> dict[int, Member]:
    """Members with figures, and every active member who works orders (zero rows too)."""
    members = await uow.session.scalars(
        select(Member).where(
            Member.account_id == actor.account_id,
            or_(Member.id.in_(ids), Member.status == MemberStatus.ACTIVE),
        )
    )
    return {
        m.id: m
        for m in members
        if m.id in ids or Perm.ORDERS_VIEW_OWN in parse_perms(m.role.permissions)
    }


def _sort_key(row: ReportRow) -> tuple:
    return (row.member_id is None, -row.figures.revenue, -row.figures.completed, row.name or "")


async def sales_report(
    uow: UnitOfWork, actor: Actor, period: Period, member_id: int | None = None
) -> SalesReport:
    """Figures per member for the period; managers without reports.team get their own row.

    A read-only step: on SQLite it takes no write lock (a write transaction begun and rolled
    back cost ≈5 ms of a /report over 100,000 orders)."""
    async with uow.reading() as conn:
        return await _sales_report(uow, conn, actor, period, member_id)


async def _sales_report(
    uow: UnitOfWork, conn: AsyncConnection, actor: Actor, period: Period, member_id: int | None
) -> SalesReport:
    scope, member_id = report_scope(actor, member_id)
    member_name = await _member_name(uow, actor, member_id) if member_id is not None else None
    account = await uow.session.get(Account, actor.account_id)
    start, end = period.bounds(actor.timezone)
    by_member, other, to_complete = await _figures(
        conn, actor, member_id, account.currency, start, end
    )
    if member_id is not None:
        names = {member_id: member_name}
        member = await uow.session.get(Member, member_id)
        full_names = {member_id: member.full_name}
        by_member.setdefault(member_id, Figures())
    else:
        team = await _team(uow, actor, {m for m in by_member if m is not None})
        names = {m.id: m.display_name for m in team.values()}
        full_names = {m.id: m.full_name for m in team.values()}
        for m in team:
            by_member.setdefault(m, Figures())
    totals = Figures(
        completed=sum(f.completed for f in by_member.values()),
        revenue=sum(f.revenue for f in by_member.values()),
        open=sum(f.open for f in by_member.values()),
    )
    to_claim = await _to_claim(conn, actor, member_id, start, end)
    speeds = {
        m: Speed(to_claim.get(m), to_complete.get(m)) for m in to_claim.keys() | to_complete.keys()
    }
    rows = sorted(
        (
            ReportRow(
                m,
                names.get(m) if m is not None else None,
                f,
                f.share_of(totals.revenue),
                full_names.get(m) if m is not None else None,
                speeds.get(m, Speed()),
            )
            for m, f in by_member.items()
        ),
        key=_sort_key,
    )
    return SalesReport(
        period=period,
        timezone=actor.timezone,
        currency=account.currency,
        scope=scope,
        member_id=member_id if scope == Scope.TEAM else None,
        member_name=member_name if scope == Scope.TEAM else None,
        rows=rows,
        totals=totals,
        other_currency=other,
        cancelled=await _cancelled(conn, actor, member_id, start, end),
    )


async def report_orders(
    uow: UnitOfWork, actor: Actor, period: Period, member_id: int | None = None
) -> list[ReportOrder]:
    """The orders behind the figures: completed in the period, and created in it still open.

    Summary columns only (no customer contacts), like a colleague's view of an order."""
    _scope, member_id = report_scope(actor, member_id)
    if member_id is not None:
        await _member_name(uow, actor, member_id)
    start, end = period.bounds(actor.timezone)
    result = await uow.session.execute(
        _scoped(
            select(
                Order.number,
                Order.status,
                Order.total,
                Order.currency,
                Order.created_at,
                Order.completed_at,
                Member.username,
                Member.full_name,
            ).outerjoin(Member, Member.id == Order.assignee_id),
            actor,
            member_id,
        )
        .where(or_(_completed_in(start, end), _open_from(start, end)))
        .order_by(func.coalesce(Order.completed_at, Order.created_at), Order.id)
    )
    return [
        ReportOrder(
            number=number,
            status=OrderStatus(status),
            assignee=(f"@{username}" if username else full_name),
            total=total,
            currency=currency,
            created_at=created_at,
            completed_at=completed_at,
        )
        for number, status, total, currency, created_at, completed_at, username, full_name in result
    ]


async def report_members(uow: UnitOfWork, actor: Actor) -> list[ReportMember]:
    """Members for the report's member filter: everyone not removed who works orders."""
    actor.require(Perm.REPORTS_TEAM)
    members = await uow.session.scalars(
        select(Member)
        .where(Member.account_id == actor.account_id, Member.status != MemberStatus.REMOVED)
        .order_by(Member.full_name, Member.id)
    )
    found = [
        ReportMember(m.id, m.display_name)
        for m in members
        if Perm.ORDERS_VIEW_OWN in parse_perms(m.role.permissions)
    ]
    return found[:MEMBERS_PICKER_SIZE]
