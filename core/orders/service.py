"""Orders: intake, role-aware lists and cards, claiming, assignment, status, the order log."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import Insert, Select, bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.accounts.hours import working_seconds
from core.accounts.models import Account
from core.accounts.service import phone_region
from core.audit.models import AuditEntry
from core.audit.service import HistoryRow, audit, audit_each
from core.connectors import status_hooks
from core.customers.history import customer_history
from core.customers.intake import Person, find_or_create_many
from core.db.sql import insert_ignoring_duplicates
from core.db.uow import UnitOfWork
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.members.actor import Actor
from core.members.models import Member, MemberStatus
from core.members.permissions import Perm, parse_perms
from core.orders import claims, distribution, fields, notices
from core.orders.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Order,
    OrderSource,
    OrderStatus,
)
from core.orders.views import (
    OrderCard,
    OrderItem,
    OrderSummary,
    card_of,
    check_visible,
    may_change_status,
    may_view_log,
    next_statuses,
    summary_of,
)
from core.tasks.handover import move_open_tasks
from core.tasks.models import Task, TaskStatus

PAGE_SIZE = 10
LOG_SIZE = 30
PICKER_SIZE = 40
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class NewOrder:
    number: str
    customer_name: str
    total: int  # kopecks
    customer_phone: str | None = None
    customer_email: str | None = None
    customer_address: str | None = None
    items: tuple[OrderItem, ...] = ()
    currency: str | None = None  # None: the account's currency
    comment: str | None = None
    external_id: str | None = None
    placed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone to tell about a change: a member's chat and language."""

    member_id: int
    telegram_id: int
    locale: str
    name: str


@dataclass(frozen=True, slots=True)
class IntakeResult:
    order: Order
    created: bool


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    won: bool
    order: OrderSummary
    holder: str | None  # who has the order now
    mine: bool  # the actor holds it, now or from before


@dataclass(frozen=True, slots=True)
class AssignOutcome:
    card: OrderCard
    previous: Recipient | None
    assignee: Recipient | None


@dataclass(frozen=True, slots=True)
class OrderLog:
    order: OrderSummary
    rows: list[HistoryRow]


class OrderTab(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL = "all"  # "Team" for members without orders.view_all: rows are summaries anyway


@dataclass(frozen=True, slots=True)
class Cursor:
    """A keyset position: the (created_at, id) of a row."""

    created_at: datetime
    id: int

    @property
    def micros(self) -> int:
        return (self.created_at - _EPOCH) // timedelta(microseconds=1)

    @classmethod
    def of(cls, micros: int, order_id: int) -> Cursor:
        return cls(_EPOCH + timedelta(microseconds=micros), order_id)


@dataclass(frozen=True, slots=True)
class OrdersPage:
    tab: OrderTab
    status: OrderStatus | None
    rows: list[OrderSummary]
    newer: Cursor | None  # set when there is a newer page: its rows come before this cursor
    older: Cursor | None  # set when there is an older page
    tabs: tuple[OrderTab, ...] = field(default=())
    full_view: bool = False  # the actor holds orders.view_all
    open_only: bool = False  # new and in-progress orders only, oldest first
    overdue: int = 0  # the account's unclaimed orders past their claim time (core.orders.claims)
    late: frozenset[int] = frozenset()  # the rows of this page among them


# ---- loading ---------------------------------------------------------------------------------


def _name(member: Member | None) -> str | None:
    return member.display_name if member is not None else None


def _label(username: str | None, full_name: str | None) -> str | None:
    """A member's display name from joined columns (no member: None)."""
    return f"@{username}" if username else full_name


async def _load(
    uow: UnitOfWork, actor: Actor, order_id: int, *, fresh: bool = False
) -> tuple[Order, Member | None]:
    query = select(Order).where(Order.id == order_id, Order.account_id == actor.account_id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    order = (await uow.session.scalars(query)).first()
    if order is None:
        raise NotFound("order_gone")
    assignee = None
    if order.assignee_id is not None:
        assignee = await uow.session.get(Member, order.assignee_id, populate_existing=fresh)
    return order, assignee


async def find_order_id(uow: UnitOfWork, actor: Actor, number: str) -> int:
    """The order a member means by `number`: №/# and invisible characters ignored, letter case
    too when no number matches exactly."""
    cleaned = fields.lookup_number(number)
    found = await uow.session.scalar(
        select(Order.id).where(Order.account_id == actor.account_id, Order.number == cleaned)
    )
    if found is None:
        found = await uow.session.scalar(
            select(Order.id)
            .where(
                Order.account_id == actor.account_id,
                func.lower(Order.number) == cleaned.lower(),
            )
            .order_by(Order.id)
            .limit(1)
        )
    if found is None:
        raise NotFound("order_not_found", number=cleaned)
    return found


async def _recipient(uow: UnitOfWork, member: Member | None) -> Recipient | None:
    if member is None:
        return None
    account = await uow.session.get(Account, member.account_id)
    return Recipient(member.id, member.telegram_id, member.locale or account.locale, _name(member))


def _audit(
    uow: UnitOfWork,
    actor_id: int | None,
    order: Order,
    action: str,
    before,
    after,
    reason: str | None = None,
) -> AuditEntry:
    after = {"number": order.number, **(after or {})}
    return audit(uow, actor_id, action, order, before=before, after=after, reason=reason)


# ---- intake ----------------------------------------------------------------------------------


def _row(
    account: Account, cmd: NewOrder, source: OrderSource, created_by, now, customer_id: int
) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "number": cmd.number,
        "external_id": cmd.external_id,
        "source": source,
        "customer_name": cmd.customer_name,
        "customer_phone": cmd.customer_phone,
        "customer_email": cmd.customer_email,
        "customer_address": cmd.customer_address,
        "items": [{"title": i.title, "qty": i.qty, "price": i.price} for i in cmd.items],
        "total": cmd.total,
        "currency": cmd.currency or account.currency,
        "comment": cmd.comment,
        "status": OrderStatus.NEW,
        "assignee_id": None,
        "created_by": created_by,
        "placed_at": cmd.placed_at,
        "created_at": now,
        "updated_at": now,
        "customer_id": customer_id,
        "claim_step": 0,
    }


async def number_taken(uow: UnitOfWork, account_id: int, number: str) -> bool:
    found = await uow.session.scalar(
        select(Order.id).where(Order.account_id == account_id, Order.number == number)
    )
    return found is not None


def require_create(actor: Actor) -> None:
    """For the /neworder dialog: refuse at the first step, not after five questions."""
    actor.require(Perm.ORDERS_CREATE)


async def check_number_free(
    uow: UnitOfWork, actor: Actor, number: str, field: str = "number"
) -> str:
    """For the /neworder dialog: refuse a taken number at the first step, not the last."""
    actor.require(Perm.ORDERS_CREATE)
    actor.require_writable()
    cleaned = fields.number(number, field)
    if await number_taken(uow, actor.account_id, cleaned):
        raise Conflict("order_number_taken", number=cleaned)
    return cleaned


def _order_insert(uow: UnitOfWork, if_new: bool) -> Insert:
    return _returning(insert_ignoring_duplicates(uow, Order) if if_new else None)


@cache
def _returning(ignoring: Insert | None) -> Insert:
    """The orders' INSERT … RETURNING, built once: plain (None; rows returned in the order
    given) or from the dialect's ON CONFLICT DO NOTHING insert (itself built once)."""
    if ignoring is None:
        return insert(Order).returning(Order, sort_by_parameter_order=True)
    return ignoring.returning(Order)


async def add_orders(
    uow: UnitOfWork,
    account: Account,
    commands: list[NewOrder],
    source: OrderSource,
    actor_id: int | None,
    *,
    if_new: bool = False,
) -> list[Order]:
    """Inserts new orders with their audit entries and announcements; the caller checked
    duplicates (or passes `if_new`) and commits. The one place orders are created: each is
    linked to its customer (found by phone, else email, or created).

    The orders go in as one INSERT … RETURNING (ORM objects in the session, in the commands'
    order), not through the session's flush. `if_new` (one command): an order whose external
    id or number is taken is skipped (`ON CONFLICT DO NOTHING`) and none is returned — the
    caller then rolls back what the customer lookup wrote and reads the holder."""
    if if_new and len(commands) != 1:
        raise ValueError("if_new inserts one order")
    now = uow.clock.now()
    people = [Person(c.customer_name, c.customer_phone, c.customer_email) for c in commands]
    customers = await find_or_create_many(uow, account.id, phone_region(account), people)
    rows = [
        _row(account, cmd, source, actor_id, now, customer.id)
        for cmd, customer in zip(commands, customers, strict=True)
    ]
    orders = list(await uow.session.scalars(_order_insert(uow, if_new), rows))
    if not orders:
        return []
    created = [(o, {"number": o.number, "total": o.total, "source": source}) for o in orders]
    await audit_each(uow, actor_id, "order.created", created)
    await distribution.assign_new(uow, account, orders)
    await notices.announce_new(uow, account, orders)
    return orders


async def create_order(uow: UnitOfWork, actor: Actor, cmd: NewOrder) -> OrderCard:
    """Manual entry (/neworder)."""
    actor.require(Perm.ORDERS_CREATE)
    actor.require_writable()
    if await number_taken(uow, actor.account_id, cmd.number):
        raise Conflict("order_number_taken", number=cmd.number)
    account = await uow.session.get(Account, actor.account_id)
    try:
        [order] = await add_orders(uow, account, [cmd], OrderSource.MANUAL, actor.member_id)
    except IntegrityError:
        await uow.rollback()
        raise Conflict("order_number_taken", number=cmd.number) from None
    await uow.commit()
    return await _card(uow, actor, order, None)


async def intake_order(
    uow: UnitOfWork, account_id: int, cmd: NewOrder, source: OrderSource = OrderSource.API
) -> IntakeResult:
    """From the store: idempotent by (account, external_id). A repeat of the same order returns
    the first one; the same external id with other values is refused (`external_id_conflict`,
    naming the fields), and so is another external id with a taken number. Concurrent
    deliveries of one order store it once: the loser of the insert race reads the winner's."""
    if not cmd.external_id:
        raise fields.required("external_id")
    account = await uow.session.get(Account, account_id)
    if account is None:
        raise NotFound("account_not_found", account=account_id)
    currency = account.currency  # a rollback below expires the account
    # Inserted unless the external id or the number is taken (ON CONFLICT DO NOTHING): no read
    # before the write. A concurrent delivery's uncommitted row makes the insert wait for its
    # end; once it committed, nothing is inserted here and its row is the holder.
    inserted = await add_orders(uow, account, [cmd], source, None, if_new=True)
    if inserted:
        await uow.commit()
        return IntakeResult(inserted[0], created=True)
    await uow.rollback()  # what the customer lookup wrote for this refused or repeated order
    existing = await _holder_of(uow, account_id, cmd)
    if existing is None:  # the holder went away meanwhile (deleted): let the store retry
        raise Conflict("order_number_taken", number=cmd.number)
    if existing.external_id != cmd.external_id:
        raise Conflict("order_number_taken", number=cmd.number)
    differing = intake_differences(existing, cmd, currency)
    if differing:
        raise Conflict("external_id_conflict", external_id=cmd.external_id, fields=tuple(differing))
    return IntakeResult(existing, created=False)


@cache
def _holder_query() -> Select:
    """Built once: every order that arrives runs it (each call binds its values)."""
    return (
        select(Order)
        .where(
            Order.account_id == bindparam("account_id"),
            or_(Order.external_id == bindparam("external_id"), Order.number == bindparam("number")),
        )
        .execution_options(populate_existing=True)
    )


async def _holder_of(uow: UnitOfWork, account_id: int, cmd: NewOrder) -> Order | None:
    """The order with the command's external id, else the one with its number: one statement,
    so both are read from one snapshot (a winner committing between two reads is seen whole)."""
    params = {"account_id": account_id, "external_id": cmd.external_id, "number": cmd.number}
    rows = (await uow.session.scalars(_holder_query(), params)).all()
    same = [o for o in rows if o.external_id == cmd.external_id]
    return (same or rows or [None])[0]


def intake_differences(order: Order, cmd: NewOrder, account_currency: str) -> list[str]:
    """The intake API's names of the fields where `cmd` differs from the stored `order`, in the
    document's order; none: the same order. Compared as stored (kopecks, instants, the
    account's currency when none is given), so equal values written differently are equal."""
    items = [{"title": i.title, "qty": i.qty, "price": i.price} for i in cmd.items]
    pairs = (
        ("number", order.number, cmd.number),
        ("customer.name", order.customer_name, cmd.customer_name),
        ("customer.phone", order.customer_phone, cmd.customer_phone),
        ("customer.email", order.customer_email, cmd.customer_email),
        ("customer.address", order.customer_address, cmd.customer_address),
        ("items", list(order.items or []), items),
        ("total", order.total, cmd.total),
        ("currency", order.currency, cmd.currency or account_currency),
        ("created_at", order.placed_at, cmd.placed_at),
        ("comment", order.comment, cmd.comment),
    )
    return [name for name, stored, given in pairs if stored != given]


# ---- lists and cards -------------------------------------------------------------------------


def tabs_for(actor: Actor) -> tuple[OrderTab, ...]:
    tabs = []
    if actor.can(Perm.ORDERS_VIEW_OWN):
        tabs.append(OrderTab.MINE)
    if any(actor.can(p) for p in (Perm.ORDERS_CLAIM, Perm.ORDERS_VIEW_TEAM, Perm.ORDERS_VIEW_ALL)):
        tabs.append(OrderTab.UNASSIGNED)
    if actor.can(Perm.ORDERS_VIEW_ALL) or actor.can(Perm.ORDERS_VIEW_TEAM):
        tabs.append(OrderTab.ALL)
    return tuple(tabs)


async def list_orders(
    uow: UnitOfWork,
    actor: Actor,
    tab: OrderTab | None = None,
    status: OrderStatus | None = None,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    open_only: bool | None = None,
) -> OrdersPage:
    """Newest first, PAGE_SIZE rows, keyset-paginated: `after` = the next page's rows, `before`
    = the previous page's. Without a tab: the first one the actor has (Mine for anyone who
    works orders). Mine opens on the open orders, oldest waiting first (`open_only`, which is
    the default there when no status is asked for)."""
    tabs = tabs_for(actor)
    if tab is None and tabs:
        tab = tabs[0]
    if open_only is None:
        open_only = tab == OrderTab.MINE and status is None
    open_only = open_only and status is None
    if tab not in tabs:
        if not tabs:
            raise PermissionDenied(permission=Perm.ORDERS_VIEW_OWN.value)
        raise PermissionDenied(permission=Perm.ORDERS_VIEW_ALL.value)
    backwards = before is not None
    cursor = before if backwards else after
    params = {"account_id": actor.account_id, "member_id": actor.member_id, "status": status}
    if cursor is not None:
        params["at"], params["oid"] = cursor.created_at, cursor.id
    page = "newer" if backwards else "older" if after is not None else "first"
    query = _list_query(tab, status is not None, page, open_only)
    async with uow.reading() as conn:
        result = (await conn.execute(query, params)).all()
    more = len(result) > PAGE_SIZE
    result = result[:PAGE_SIZE]
    if backwards:
        result.reverse()
    rows = [summary_row(actor, r) for r in result]
    first = Cursor(rows[0].created_at, rows[0].id) if rows else None
    last = Cursor(rows[-1].created_at, rows[-1].id) if rows else None
    newer = first if (more if backwards else after is not None) else None
    older = last if (True if backwards else more) else None
    overdue, late = await _overdue(uow, actor, rows, first_page=cursor is None)
    return OrdersPage(
        tab,
        status,
        rows,
        newer,
        older,
        tabs,
        full_view=actor.can(Perm.ORDERS_VIEW_ALL),
        open_only=open_only,
        overdue=overdue,
        late=frozenset(late),
    )


async def _overdue(
    uow: UnitOfWork, actor: Actor, rows: list[OrderSummary], *, first_page: bool
) -> tuple[int, list[int]]:
    """Which of `rows` are unclaimed past their claim time, and (counted on a list's first
    page, for members who see unassigned orders) how many of the account's orders are."""
    if OrderTab.UNASSIGNED not in tabs_for(actor):
        return 0, []
    hours = await claims.hours_of(uow, actor)
    if hours is None:
        return 0, []
    past = claims.overdue_test(hours, uow.clock.now())
    late = [
        r.id
        for r in rows
        if r.assignee_id is None and r.status in OPEN_STATUSES and past(r.created_at)
    ]
    return (await claims.count_overdue(uow, actor.account_id, hours) if first_page else 0), late


def summary_row(actor: Actor, r: Any) -> OrderSummary:
    """A list row from summary columns; the customer's name only where the actor may see it."""
    full = actor.can(Perm.ORDERS_VIEW_ALL) or (
        r.assignee_id == actor.member_id and actor.can(Perm.ORDERS_VIEW_OWN)
    )
    return OrderSummary(
        r.id,
        r.number,
        OrderStatus(r.status),
        r.total,
        r.currency,
        r.assignee_id,
        _label(r.username, r.full_name),
        r.created_at,
        placed_at=r.placed_at,
        customer=r.customer_name if full else None,
    )


def summary_columns() -> Select:
    """Summary columns only (and the customer's name, dropped by summary_row where hidden): a
    list never loads customer details. Columns, not the Member entity: its eager role join
    would drop unassigned rows."""
    return select(
        Order.id,
        Order.number,
        Order.status,
        Order.total,
        Order.currency,
        Order.assignee_id,
        Order.created_at,
        Order.placed_at,
        Order.customer_name,
        Member.username,
        Member.full_name,
    ).outerjoin(Member, Member.id == Order.assignee_id)


@cache
def _list_query(tab: OrderTab, by_status: bool, page: str, open_only: bool = False) -> Select:
    """One page of a tab, built once per shape ("first", "older" or "newer" than a cursor);
    each call only binds its values."""
    query = summary_columns().where(Order.account_id == bindparam("account_id"))
    if tab == OrderTab.MINE:
        query = query.where(Order.assignee_id == bindparam("member_id"))
    elif tab == OrderTab.UNASSIGNED:
        # Unassigned means open and nobody's: a cancelled order is nobody's work.
        query = query.where(Order.assignee_id.is_(None), Order.status.in_(OPEN_STATUSES))
    if by_status:
        query = query.where(Order.status == bindparam("status"))
    if open_only:
        query = query.where(Order.status.in_(OPEN_STATUSES))
    at, oid = bindparam("at"), bindparam("oid")
    later = Order.created_at >= at, or_(Order.created_at > at, Order.id > oid)
    earlier = Order.created_at <= at, or_(Order.created_at < at, Order.id < oid)
    ascending = Order.created_at, Order.id
    descending = Order.created_at.desc(), Order.id.desc()
    if open_only:  # oldest first: the next page is later, the previous one earlier
        later, earlier, ascending, descending = earlier, later, descending, ascending
    if page == "newer":
        return query.where(*later).order_by(*ascending).limit(PAGE_SIZE + 1)
    if page == "older":
        query = query.where(*earlier)
    return query.order_by(*descending).limit(PAGE_SIZE + 1)


async def _open_tasks(uow: UnitOfWork, order_id: int) -> int:
    return await uow.session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.order_id == order_id, Task.status == TaskStatus.OPEN)
    )


async def _card(
    uow: UnitOfWork, actor: Actor, order: Order, assignee: str | None, open_tasks: int = 0
) -> OrderCard:
    """The card, with the customer's history where the actor sees the customer."""
    card = card_of(actor, order, assignee, open_tasks)
    if card.details is None or order.customer_id is None:
        return card
    history = await customer_history(uow, order.customer_id, order.currency)
    return replace(card, customer=history)


async def order_card(uow: UnitOfWork, actor: Actor, order_id: int) -> OrderCard:
    order, assignee = await _load(uow, actor, order_id)
    return await _card(uow, actor, order, _name(assignee), await _open_tasks(uow, order.id))


async def order_card_by_number(uow: UnitOfWork, actor: Actor, number: str) -> OrderCard:
    return await order_card(uow, actor, await find_order_id(uow, actor, number))


# ---- claiming and assignment -----------------------------------------------------------------


def _taken_into_work(account: Account, order: Order, now: datetime) -> dict:
    """The UPDATE's values for a claim or an assignment: the first time an order is taken into
    work is kept (claimed_at), with how long it had waited in working time (the report's median
    time to claim reads the stored seconds). Both are written only while claimed_at is unset,
    judged by the row being updated, not by the copy loaded before."""
    # Claimed before (as loaded): the walk over its days is skipped, the CASE keeps the column.
    waited = working_seconds(account, order.created_at, now) if order.claimed_at is None else None
    return {
        "claimed_at": func.coalesce(Order.claimed_at, now),
        "claim_wait_seconds": case(
            (Order.claimed_at.is_(None), waited), else_=Order.claim_wait_seconds
        ),
    }


def _closed(order: Order) -> InvalidInput:
    return InvalidInput("order_closed", number=order.number, status=order.status)


def _lost(actor: Actor, order: Order, assignee: Member | None) -> ClaimOutcome:
    return ClaimOutcome(
        won=False,
        order=summary_of(order, _name(assignee)),
        holder=_name(assignee),
        mine=order.assignee_id == actor.member_id,
    )


async def claim_order(
    uow: UnitOfWork, actor: Actor, order_id: int, *, from_announcement: bool = False
) -> ClaimOutcome:
    """Compare-and-set: of any number of simultaneous claims exactly one wins; the others learn
    who has the order. Claiming takes a new order into work; the winner's claim edits the
    order's announcements, and a claim from an announcement also tells the claimer in private
    (it may have been pressed in the group)."""
    actor.require(Perm.ORDERS_CLAIM)
    actor.require_writable()
    order, assignee = await _load(uow, actor, order_id)
    if order.assignee_id is not None:
        return _lost(actor, order, assignee)
    if order.status in CLOSED_STATUSES:
        raise _closed(order)
    before_status = order.status
    active_me = (
        select(Member.id)
        .where(Member.id == actor.member_id, Member.status == MemberStatus.ACTIVE)
        .exists()
    )
    account = await uow.session.get(Account, order.account_id)
    now = uow.clock.now()
    result = await uow.session.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.assignee_id.is_(None),
            Order.status.in_(OPEN_STATUSES),
            active_me,
        )
        .values(
            assignee_id=actor.member_id,
            **_taken_into_work(account, order, now),
            status=case(
                (Order.status == OrderStatus.NEW, OrderStatus.IN_PROGRESS.value),
                else_=Order.status,
            ),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    order, assignee = await _load(uow, actor, order_id, fresh=True)
    if result.rowcount != 1:
        if order.assignee_id is not None:
            return _lost(actor, order, assignee)
        if order.status in CLOSED_STATUSES:
            raise _closed(order)
        raise PermissionDenied("blocked_cannot_claim")
    after = {"assignee": _name(assignee)}
    before = {"assignee": None}
    if order.status != before_status:
        before["status"], after["status"] = before_status, order.status
    entry = _audit(uow, actor.member_id, order, "order.claimed", before, after)
    holder = _name(assignee)
    await notices.show_change(
        uow, account, order, holder, notices.shown_as(before_status, None), entry
    )
    if from_announcement:
        await notices.tell_claimer(uow, account, order, actor.member_id, holder, entry)
    await status_hooks.record_change(uow, account, order, holder, entry)
    await uow.commit()
    return ClaimOutcome(True, summary_of(order, holder), holder, True)


async def claim_order_by_number(uow: UnitOfWork, actor: Actor, number: str) -> ClaimOutcome:
    actor.require(Perm.ORDERS_CLAIM)
    actor.require_writable()
    return await claim_order(uow, actor, await find_order_id(uow, actor, number))


async def assignable_members(
    uow: UnitOfWork, actor: Actor, order_id: int
) -> tuple[OrderSummary, list[Recipient]]:
    """Active members who can work orders, for the Assign… picker."""
    actor.require(Perm.ORDERS_ASSIGN)
    order, assignee = await _load(uow, actor, order_id)
    if order.status in CLOSED_STATUSES:
        raise _closed(order)
    members = await uow.session.scalars(
        select(Member)
        .where(Member.account_id == actor.account_id, Member.status == MemberStatus.ACTIVE)
        .order_by(Member.full_name, Member.id)
    )
    account = await uow.session.get(Account, actor.account_id)
    eligible = [
        Recipient(m.id, m.telegram_id, m.locale or account.locale, m.display_name)
        for m in members
        if Perm.ORDERS_VIEW_OWN in parse_perms(m.role.permissions)
    ]
    return summary_of(order, _name(assignee)), eligible[:PICKER_SIZE]


async def assign_order(
    uow: UnitOfWork, actor: Actor, order_id: int, member_id: int | None
) -> AssignOutcome:
    """Assign, reassign (member_id) or unassign (None). Compare-and-set against the assignee
    the admin saw, so two admins assigning at once cannot silently overwrite each other."""
    actor.require(Perm.ORDERS_ASSIGN)
    actor.require_writable()
    order, previous = await _load(uow, actor, order_id)
    if order.status in CLOSED_STATUSES:
        raise _closed(order)
    target = None
    if member_id is None:
        if order.assignee_id is None:
            raise InvalidInput("order_unassigned", number=order.number)
    else:
        target = await uow.session.get(Member, member_id)
        if target is None or target.account_id != actor.account_id:
            raise NotFound("member_not_found", ref=str(member_id))
        if target.status == MemberStatus.REMOVED:
            raise NotFound("member_not_found", ref=target.display_name)
        if target.status != MemberStatus.ACTIVE:
            raise InvalidInput("member_blocked", name=target.display_name)
        if Perm.ORDERS_VIEW_OWN not in parse_perms(target.role.permissions):
            raise InvalidInput("cannot_work_orders", name=target.display_name)
        if target.id == order.assignee_id:
            raise InvalidInput("already_assignee", name=target.display_name, number=order.number)
    seen = (
        Order.assignee_id.is_(None)
        if order.assignee_id is None
        else Order.assignee_id == order.assignee_id
    )
    account = await uow.session.get(Account, order.account_id)
    now = uow.clock.now()
    result = await uow.session.execute(
        update(Order)
        .where(Order.id == order.id, seen, Order.status.in_(OPEN_STATUSES))
        .values(
            assignee_id=target.id if target else None,
            # The first time it is taken into work counts; unassigning keeps it.
            **(_taken_into_work(account, order, now) if target else {}),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("order_changed", number=order.number)
    order, _assignee = await _load(uow, actor, order_id, fresh=True)
    # The previous holder's open tasks go with the order (the new assignee is told).
    await move_open_tasks(uow, actor.member_id, order, previous, target)
    action = "order.assigned" if target else "order.unassigned"
    entry = _audit(
        uow,
        actor.member_id,
        order,
        action,
        {"assignee": _name(previous)},
        {"assignee": _name(target)},
    )
    was = notices.shown_as(order.status, _name(previous))
    await notices.show_change(uow, account, order, _name(target), was, entry)
    await notices.tell_assignees(
        uow,
        account,
        order,
        (previous.id, previous.display_name) if previous else None,
        (target.id, target.display_name) if target else None,
        entry,
    )
    await status_hooks.record_change(uow, account, order, _name(target), entry)
    tasks = await _open_tasks(uow, order.id)
    await uow.commit()
    return AssignOutcome(
        card=await _card(uow, actor, order, _name(target), tasks),
        previous=await _recipient(uow, previous),
        assignee=await _recipient(uow, target),
    )


# ---- status ----------------------------------------------------------------------------------


CANCEL_REASONS = ("customer_refused", "out_of_stock", "unreachable", "duplicate")
REASON_LIMIT = 200


def cancel_reason(reason: str | None) -> str:
    """A cancellation's reason: one of CANCEL_REASONS or the member's own words."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("cancel_reason_required")
    if len(reason) > REASON_LIMIT or not fields.storable(reason):
        raise InvalidInput("cancel_reason_too_long", limit=REASON_LIMIT)
    return reason


def completion_seconds(claimed_at: datetime | None, completed_at: datetime) -> int | None:
    """Whole seconds from the claim to the completion (0 at least; None: never claimed)."""
    if claimed_at is None:
        return None
    return max(0, int((completed_at - claimed_at).total_seconds()))


async def change_status(
    uow: UnitOfWork, actor: Actor, order_id: int, status: str, reason: str | None = None
) -> OrderCard:
    """new → in_progress → completed | cancelled (new may be cancelled too); the assignee or an
    admin moves it; only admins reopen a completed or cancelled order. Cancelling takes a
    reason (a CANCEL_REASONS code or free text): it is kept on the order and in its log."""
    actor.require_writable()
    order, assignee = await _load(uow, actor, order_id)
    check_visible(actor, order, _name(assignee))
    try:
        target = OrderStatus(status)
    except ValueError:
        raise InvalidInput("order_status", status=str(status)[:20]) from None
    if not may_change_status(actor, order):
        raise PermissionDenied("order_not_yours", number=order.number)
    if target not in next_statuses(actor, order):
        closed = order.status in CLOSED_STATUSES
        if closed and target != order.status and not actor.can(Perm.ORDERS_ASSIGN):
            raise PermissionDenied("reopen_admins_only", number=order.number)
        raise InvalidInput("status_transition", number=order.number, current=order.status)
    reason = cancel_reason(reason) if target == OrderStatus.CANCELLED else None
    now = uow.clock.now()
    values: dict = {"status": target, "updated_at": now, "cancel_reason": reason}
    if target == OrderStatus.COMPLETED:
        values["completed_at"] = now
        values["completion_seconds"] = completion_seconds(order.claimed_at, now)
    elif order.status in CLOSED_STATUSES:
        values["completed_at"] = values["completion_seconds"] = None
    result = await uow.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == order.status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("order_changed", number=order.number)
    reopened = order.status in CLOSED_STATUSES
    before = {"status": order.status}
    was = notices.shown_as(order.status, _name(assignee))
    order, assignee = await _load(uow, actor, order_id, fresh=True)
    action = "order.reopened" if reopened else "order.status_changed"
    entry = _audit(uow, actor.member_id, order, action, before, {"status": order.status}, reason)
    account = await uow.session.get(Account, order.account_id)
    await notices.show_change(uow, account, order, _name(assignee), was, entry)
    await status_hooks.record_change(uow, account, order, _name(assignee), entry)
    tasks = await _open_tasks(uow, order.id)
    await uow.commit()
    return await _card(uow, actor, order, _name(assignee), tasks)


# ---- the order log ---------------------------------------------------------------------------


async def order_log(uow: UnitOfWork, actor: Actor, order_id: int) -> OrderLog:
    """The order's audit entries, newest first. Managers see the log of their own orders."""
    order, assignee = await _load(uow, actor, order_id)
    check_visible(actor, order, _name(assignee))
    if not may_view_log(actor, order):
        raise PermissionDenied("order_log_denied", number=order.number)
    result = (
        await uow.session.execute(
            select(AuditEntry, Member.username, Member.full_name)
            .outerjoin(Member, Member.id == AuditEntry.actor_id)
            .where(
                AuditEntry.account_id == actor.account_id,
                AuditEntry.subject_type == "order",
                AuditEntry.subject_id == order.id,
            )
            .order_by(AuditEntry.id.desc())
            .limit(LOG_SIZE)
        )
    ).all()
    rows = [
        HistoryRow(
            id=entry.id,
            action=entry.action,
            actor_name=_label(username, full_name),
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            before=entry.before,
            after=entry.after,
            reason=entry.reason,
            created_at=entry.created_at,
        )
        for entry, username, full_name in result
    ]
    return OrderLog(summary_of(order, _name(assignee)), rows)
