"""Tasks on orders: add, list, close, reopen, postpone, reassign.

Every change is a compare-and-set against the state the member saw, lands in the order's audit
log and (re)arms or disarms the task's one reminder in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, func, select, true, update
from sqlalchemy.orm import aliased

from core.accounts.models import Account
from core.accounts.service import day_hours
from core.audit.models import AuditEntry
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.members.actor import Actor
from core.members.models import Member, MemberStatus
from core.members.permissions import Perm, parse_perms
from core.members.service import find_member
from core.orders import fields
from core.orders.models import Order
from core.orders.service import find_order_id
from core.orders.views import OrderSummary, check_visible, summary_of
from core.tasks.due import DayHours, add_days, check_future, parse_due, split_due
from core.tasks.handover import tell_task_assignee
from core.tasks.models import TEXT_LIMIT, Task, TaskStatus
from core.tasks.views import (
    TaskRow,
    actions_for,
    is_task_admin,
    may_reopen,
    may_work,
)

PAGE_SIZE = 5
ORDER_OPEN_LIMIT = 15
ORDER_DONE_LIMIT = 5
PICKER_SIZE = 40
AUDIT_TEXT = 200  # the task's words kept in the audit entry


class TaskTab(StrEnum):
    MINE = "mine"  # open tasks assigned to me
    OVERDUE = "overdue"  # open and past due: mine; an admin's: everyone's
    ALL = "all"  # every open task (admins)
    BLOCKED = "blocked"  # open tasks of blocked (or removed) members, to reassign (admins)


class Postpone(StrEnum):
    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class TasksPage:
    tab: TaskTab
    rows: list[TaskRow]
    page: int
    pages: int
    tabs: tuple[TaskTab, ...]
    blocked: int  # open tasks of blocked or removed members (admins; 0 for others)


@dataclass(frozen=True, slots=True)
class OrderTasks:
    order: OrderSummary
    rows: list[TaskRow]  # open ones by due time, then the last closed ones
    may_add: bool = True  # the actor may add a task here (not on a colleague's order)


@dataclass(frozen=True, slots=True)
class Assignee:
    member_id: int
    name: str


# ---- loading ---------------------------------------------------------------------------------

_Author = aliased(Member)
_Holder = aliased(Member)


def _rows_query():
    # Columns, not Member entities: their eager role join is not needed here.
    return (
        select(
            Task,
            Order.number,
            _Author.username,
            _Author.full_name,
            _Holder.username,
            _Holder.full_name,
            _Holder.status,
        )
        .join(Order, Order.id == Task.order_id)
        .join(_Author, _Author.id == Task.author_id)
        .join(_Holder, _Holder.id == Task.assignee_id)
    )


def _label(username: str | None, full_name: str | None) -> str | None:
    return f"@{username}" if username else full_name


def _row(actor: Actor, now: datetime, result: Any) -> TaskRow:
    task, number, a_user, a_name, h_user, h_name, h_status = result
    status = TaskStatus(task.status)
    return TaskRow(
        id=task.id,
        order_id=task.order_id,
        order_number=number,
        text=task.text,
        status=status,
        due_at=task.due_at,
        overdue=status == TaskStatus.OPEN and task.due_at is not None and task.due_at <= now,
        author=_label(a_user, a_name),
        assignee_id=task.assignee_id,
        assignee=_label(h_user, h_name),
        assignee_blocked=h_status != MemberStatus.ACTIVE,
        created_at=task.created_at,
        closed_at=task.closed_at,
        actions=actions_for(actor, task, h_status),
    )


async def task_row(uow: UnitOfWork, actor: Actor, task_id: int) -> TaskRow:
    """One task as the actor sees it (a reminder's or a command's message)."""
    actor.require(Perm.TASKS_MANAGE)
    result = (
        await uow.session.execute(
            _rows_query()
            .where(Task.id == task_id, Task.account_id == actor.account_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if result is None:
        raise NotFound("task_gone")
    task = result[0]
    if actor.member_id not in (task.assignee_id, task.author_id) and not is_task_admin(actor):
        await _visible_order(uow, actor, task.order_id)  # someone else's: as its order allows
    return _row(actor, uow.clock.now(), result)


async def _load(uow: UnitOfWork, actor: Actor, task_id: int) -> Task:
    task = (
        await uow.session.scalars(
            select(Task).where(Task.id == task_id, Task.account_id == actor.account_id)
        )
    ).first()
    if task is None:
        raise NotFound("task_gone")
    return task


async def _visible_order(uow: UnitOfWork, actor: Actor, order_id: int) -> Order:
    """The order, if the orders matrix lets the actor see it at all (in full or in brief)."""
    order = (
        await uow.session.scalars(
            select(Order).where(Order.id == order_id, Order.account_id == actor.account_id)
        )
    ).first()
    if order is None:
        raise NotFound("order_gone")
    holder = await uow.session.get(Member, order.assignee_id) if order.assignee_id else None
    check_visible(actor, order, holder.display_name if holder else None)
    return order


def may_add_to(actor: Actor, order: Order) -> bool:
    """A colleague's order takes tasks from its assignee and admins only."""
    return order.assignee_id in (None, actor.member_id) or is_task_admin(actor)


async def _check_may_add(uow: UnitOfWork, actor: Actor, order: Order) -> None:
    if not may_add_to(actor, order):
        holder = await uow.session.get(Member, order.assignee_id)
        raise PermissionDenied(
            "task_colleague_order",
            number=order.number,
            holder=holder.display_name if holder else "—",
        )


def clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("task_text_empty")
    if len(text) > TEXT_LIMIT:
        raise InvalidInput("task_text_too_long", limit=TEXT_LIMIT, length=len(text))
    if not fields.storable(text):
        raise InvalidInput("task_text_characters")
    return text


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    task: Task,
    number: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Task events belong to the order: its log and /history show them."""
    after = {"number": number, "task": task.text[:AUDIT_TEXT], **(after or {})}
    return audit(uow, actor, action, task.order_id, before=before, after=after)


async def _number(uow: UnitOfWork, order_id: int) -> str:
    return await uow.session.scalar(select(Order.number).where(Order.id == order_id))


# ---- assignees -------------------------------------------------------------------------------


async def assignees(uow: UnitOfWork, actor: Actor) -> list[Assignee]:
    """Active members who can work on tasks, for the admin's pickers."""
    if not is_task_admin(actor):
        raise PermissionDenied("task_assign_admins")
    members = await uow.session.scalars(
        select(Member)
        .where(Member.account_id == actor.account_id, Member.status == MemberStatus.ACTIVE)
        .order_by(Member.id)
    )
    eligible = [
        Assignee(m.id, m.display_name)
        for m in members
        if Perm.TASKS_MANAGE in parse_perms(m.role.permissions)
    ]
    # As shown: the actor first, then by name.
    eligible.sort(key=lambda a: (a.member_id != actor.member_id, a.name.casefold()))
    return eligible[:PICKER_SIZE]


async def _target(uow: UnitOfWork, actor: Actor, member_id: int) -> Member:
    target = await uow.session.get(Member, member_id)
    if target is None or target.account_id != actor.account_id:
        raise NotFound("member_not_found", ref=str(member_id))
    if target.status == MemberStatus.REMOVED:
        raise NotFound("member_not_found", ref=target.display_name)
    if target.id == actor.member_id:
        return target
    if not is_task_admin(actor):
        raise PermissionDenied("task_assign_admins")
    if target.status != MemberStatus.ACTIVE:
        raise InvalidInput("member_blocked", name=target.display_name)
    if Perm.TASKS_MANAGE not in parse_perms(target.role.permissions):
        raise InvalidInput("cannot_do_tasks", name=target.display_name)
    return target


async def _tell_assignee(
    uow: UnitOfWork, actor: Actor, task: Task, number: str, entry: AuditEntry
) -> None:
    """'You have a new task' to an assignee someone else chose, through the outbox."""
    await uow.session.flush()  # the audit entry's id makes the event key
    me = await uow.session.get(Member, actor.member_id)
    account = await uow.session.get(Account, task.account_id)
    await tell_task_assignee(
        uow, account, task, number, entry.id, me.display_name if me else "", actor.timezone
    )


# ---- adding ----------------------------------------------------------------------------------


async def start_task(uow: UnitOfWork, actor: Actor, order_id: int) -> OrderSummary:
    """For the Add dialog: refuse at the first step, not after the member typed the text."""
    actor.require(Perm.TASKS_MANAGE)
    actor.require_writable()
    order = await _visible_order(uow, actor, order_id)
    await _check_may_add(uow, actor, order)
    return summary_of(order, None)


async def _hours(uow: UnitOfWork, actor: Actor) -> DayHours:
    return day_hours(await uow.session.get(Account, actor.account_id))


async def read_due(uow: UnitOfWork, actor: Actor, text: str) -> datetime:
    """The Add dialog's due step: what the member typed, in their account's zone and hours."""
    return parse_due(text, uow.clock.now(), actor.timezone, await _hours(uow, actor))


async def add_task(
    uow: UnitOfWork,
    actor: Actor,
    order_id: int,
    text: str,
    due: datetime | None = None,
    assignee_id: int | None = None,
) -> TaskRow:
    """A task on an order the actor can see; the assignee is the author unless an admin picks
    another active member who can work on tasks."""
    actor.require(Perm.TASKS_MANAGE)
    actor.require_writable()
    order = await _visible_order(uow, actor, order_id)
    await _check_may_add(uow, actor, order)
    text = clean_text(text)
    now = uow.clock.now()
    if due is not None:
        check_future(due, now, actor.timezone)
    target = await _target(uow, actor, assignee_id or actor.member_id)
    task = Task(
        account_id=actor.account_id,
        order_id=order.id,
        text=text,
        author_id=actor.member_id,
        assignee_id=target.id,
        due_at=due,
        status=TaskStatus.OPEN,
        created_at=now,
        updated_at=now,
        remind_at=due,
    )
    uow.session.add(task)
    await uow.session.flush()
    after = {"assignee": target.display_name, "due": _iso(due)}
    entry = _audit(uow, actor, task, order.number, "task.added", None, after)
    if target.id != actor.member_id:
        await _tell_assignee(uow, actor, task, order.number, entry)
    row = await task_row(uow, actor, task.id)
    await uow.commit()
    return row


async def add_task_from_line(uow: UnitOfWork, actor: Actor, line: str) -> TaskRow:
    """`/task <order number> [@assignee] <text> [due]` — the due is recognised at the end."""
    actor.require(Perm.TASKS_MANAGE)
    actor.require_writable()
    number, _sep, rest = line.strip().partition(" ")
    rest = rest.strip()
    assignee_id = None
    if rest.startswith("@"):
        ref, _sep, rest = rest.partition(" ")
        assignee_id = (await find_member(uow, actor, ref)).id
    order_id = await find_order_id(uow, actor, number)
    split = split_due(rest)
    text = clean_text(split.text)
    hours = await _hours(uow, actor)
    due = parse_due(split.due, uow.clock.now(), actor.timezone, hours) if split.due else None
    return await add_task(uow, actor, order_id, text, due, assignee_id)


# ---- changing --------------------------------------------------------------------------------


async def _change(uow: UnitOfWork, task: Task, seen, **values: Any) -> None:
    """Compare-and-set: the update applies only if the task is still as the member saw it."""
    result = await uow.session.execute(
        update(Task)
        .where(Task.id == task.id, *seen)
        .values(updated_at=uow.clock.now(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("task_changed")


async def _not_yours(uow: UnitOfWork, task: Task) -> PermissionDenied:
    """Why a member may not close or postpone a task: whose it is now (a button on an old
    reminder, after the task moved with its order), or that it was never theirs."""
    holder = await uow.session.get(Member, task.assignee_id) if task.assignee_id else None
    if holder is None:
        return PermissionDenied("task_not_yours")
    return PermissionDenied("task_now_theirs", holder=holder.display_name)


async def close_task(uow: UnitOfWork, actor: Actor, task_id: int) -> TaskRow:
    """Done: by the assignee, the author or an admin. A closed task never reminds."""
    actor.require(Perm.TASKS_MANAGE)
    actor.require_writable()
    task = await _load(uow, actor, task_id)
    if not may_work(actor, task):
        raise await _not_yours(uow, task)
    if task.status == TaskStatus.DONE:
        raise InvalidInput("task_already_done")
    now = uow.clock.now()
    await _change(
        uow,
        task,
        [Task.status == TaskStatus.OPEN],
        status=TaskStatus.DONE,
        closed_at=now,
        closed_by=actor.member_id,
        remind_at=None,
    )
    _audit(uow, actor, task, await _number(uow, task.order_id), "task.done", None)
    row = await task_row(uow, actor, task.id)
    await uow.commit()
    return row


def _rearm(task: Task) -> dict[str, Any]:
    """A reminder for the current due time unless one went out for it already."""
    if task.due_at is None or task.reminded_for == task.due_at:
        return {"remind_at": None}
    return {"remind_at": task.due_at}


async def reopen_task(uow: UnitOfWork, actor: Actor, task_id: int) -> TaskRow:
    """Back to open: by the author or an admin."""
    actor.require(Perm.TASKS_MANAGE)
    actor.require_writable()
    task = await _load(uow, actor, task_id)
    if not may_reopen(actor, task):
        raise PermissionDenied("task_reopen_denied")
    if task.status == TaskStatus.OPEN:
        raise InvalidInput("task_already_open")
    await _change(
        uow,
        task,
        [Task.status == TaskStatus.DONE],
        status=TaskStatus.OPEN,
        closed_at=None,
        closed_by=None,
        **_rearm(task),
    )
    _audit(uow, actor, task, await _number(uow, task.order_id), "task.reopened", None)
    row = await task_row(uow, actor, task.id)
    await uow.commit()
    return row


def postponed(due: datetime | None, now: datetime, step: Postpone, timezone: str) -> datetime:
    """From the due time, or from now if the task is overdue or has none: +1 hour, or the same
    local clock time a day later."""
    base = max(due, now) if due is not None else now
    return base + timedelta(hours=1) if step == Postpone.HOUR else add_days(base, 1, timezone)


async def postpone_task(uow: UnitOfWork, actor: Actor, task_id: int, step: Postpone) -> TaskRow:
    """Moves the due time and re-arms the reminder for it."""
    actor.require(Perm.TASKS_MANAGE)
    actor.require_writable()
    task = await _load(uow, actor, task_id)
    if not may_work(actor, task):
        raise await _not_yours(uow, task)
    if task.status == TaskStatus.DONE:
        raise InvalidInput("task_already_done")
    due = postponed(task.due_at, uow.clock.now(), Postpone(step), actor.timezone)
    seen_due = Task.due_at.is_(None) if task.due_at is None else Task.due_at == task.due_at
    await _change(uow, task, [Task.status == TaskStatus.OPEN, seen_due], due_at=due, remind_at=due)
    number = await _number(uow, task.order_id)
    _audit(
        uow, actor, task, number, "task.postponed", {"due": _iso(task.due_at)}, {"due": _iso(due)}
    )
    row = await task_row(uow, actor, task.id)
    await uow.commit()
    return row


async def reassign_task(uow: UnitOfWork, actor: Actor, task_id: int, member_id: int) -> TaskRow:
    """An admin hands an open task to another active member, who is told through the outbox
    (an overdue task: the notice says so, instead of a second, reminder message)."""
    actor.require(Perm.TASKS_MANAGE)
    actor.require_writable()
    if not is_task_admin(actor):
        raise PermissionDenied("task_assign_admins")
    task = await _load(uow, actor, task_id)
    if task.status == TaskStatus.DONE:
        raise InvalidInput("task_already_done")
    previous = await uow.session.get(Member, task.assignee_id)
    target = await _target(uow, actor, member_id)
    if target.id == task.assignee_id:
        raise InvalidInput("already_task_assignee", name=target.display_name)
    now = uow.clock.now()
    future = task.due_at is not None and task.due_at > now
    await _change(
        uow,
        task,
        [Task.status == TaskStatus.OPEN, Task.assignee_id == task.assignee_id],
        assignee_id=target.id,
        remind_at=task.due_at if future else None,
        reminded_for=None if future else task.due_at,
    )
    number = await _number(uow, task.order_id)
    entry = _audit(
        uow,
        actor,
        task,
        number,
        "task.reassigned",
        {"assignee": previous.display_name if previous else None},
        {"assignee": target.display_name},
    )
    await uow.session.refresh(task)
    if target.id != actor.member_id:
        await _tell_assignee(uow, actor, task, number, entry)
    row = await task_row(uow, actor, task.id)
    await uow.commit()
    return row


# ---- lists -----------------------------------------------------------------------------------


def _open_of(actor: Actor):
    return and_(Task.account_id == actor.account_id, Task.status == TaskStatus.OPEN)


def _blocked_holder():
    return select(Member.id).where(
        Member.id == Task.assignee_id,
        Member.status.in_((MemberStatus.BLOCKED, MemberStatus.REMOVED)),
    )


async def _blocked_count(uow: UnitOfWork, actor: Actor) -> int:
    if not is_task_admin(actor):
        return 0
    return await uow.session.scalar(
        select(func.count()).select_from(Task).where(_open_of(actor), _blocked_holder().exists())
    )


def tabs_for(actor: Actor, blocked: int, current: TaskTab | None = None) -> tuple[TaskTab, ...]:
    tabs = [TaskTab.MINE, TaskTab.OVERDUE]
    if is_task_admin(actor):
        tabs.append(TaskTab.ALL)
        if blocked or current == TaskTab.BLOCKED:
            tabs.append(TaskTab.BLOCKED)
    return tuple(tabs)


def _tab_filter(actor: Actor, tab: TaskTab, now: datetime):
    if tab == TaskTab.MINE:
        return Task.assignee_id == actor.member_id
    if tab == TaskTab.OVERDUE:
        overdue = and_(Task.due_at.is_not(None), Task.due_at <= now)
        if is_task_admin(actor):
            return overdue
        return and_(overdue, Task.assignee_id == actor.member_id)
    if tab == TaskTab.BLOCKED:
        return _blocked_holder().exists()
    return true()


async def list_tasks(
    uow: UnitOfWork, actor: Actor, tab: TaskTab | None = None, page: int = 0
) -> TasksPage:
    """Open tasks, overdue first, then by due time (none last); PAGE_SIZE a page. A page past
    the end (the last task on it was just closed) shows the last page instead."""
    actor.require(Perm.TASKS_MANAGE)
    tab = tab or TaskTab.MINE
    blocked = await _blocked_count(uow, actor)
    tabs = tabs_for(actor, blocked, tab)
    if tab not in tabs:
        raise PermissionDenied("task_tab_admins")
    now = uow.clock.now()
    where = and_(_open_of(actor), _tab_filter(actor, tab, now))
    total = await uow.session.scalar(select(func.count()).select_from(Task).where(where))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    result = await uow.session.execute(
        _rows_query()
        .where(where)
        .order_by(case((Task.due_at.is_(None), 1), else_=0), Task.due_at, Task.id)
        .offset(page * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    rows = [_row(actor, now, r) for r in result]
    return TasksPage(tab, rows, page, pages, tabs, blocked)


async def order_tasks(uow: UnitOfWork, actor: Actor, order_id: int) -> OrderTasks:
    """The card's Tasks screen: open tasks by due time, then the last few closed ones."""
    actor.require(Perm.TASKS_MANAGE)
    order = await _visible_order(uow, actor, order_id)
    now = uow.clock.now()
    base = _rows_query().where(Task.order_id == order.id, Task.account_id == actor.account_id)
    open_rows = await uow.session.execute(
        base.where(Task.status == TaskStatus.OPEN)
        .order_by(case((Task.due_at.is_(None), 1), else_=0), Task.due_at, Task.id)
        .limit(ORDER_OPEN_LIMIT)
    )
    done_rows = await uow.session.execute(
        base.where(Task.status == TaskStatus.DONE)
        .order_by(Task.closed_at.desc(), Task.id.desc())
        .limit(ORDER_DONE_LIMIT)
    )
    rows = [_row(actor, now, r) for r in [*open_rows, *done_rows]]
    return OrderTasks(summary_of(order, None), rows, may_add_to(actor, order))
