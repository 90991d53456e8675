"""/handover @from @to: a blocked, removed or leaving member's open orders and open tasks go to
a colleague in one step — one audit entry per order (and per task), one notice to the receiver.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, NotFound
from core.members.actor import Actor
from core.members.models import Member, MemberStatus
from core.members.permissions import Perm, parse_perms
from core.notifications import outbox
from core.orders import notices
from core.orders.models import OPEN_STATUSES, Order
from core.tasks.handover import AUDIT_TEXT, move_open_tasks
from core.tasks.models import Task, TaskStatus

HANDED_OVER = "orders_handed_over"
LISTED = 20  # order numbers named in the receiver's notice


@dataclass(frozen=True, slots=True)
class Handover:
    giver: str
    receiver: str
    orders: list[str]  # numbers
    tasks: int


async def member_by_ref(uow: UnitOfWork, actor: Actor, ref: str) -> Member:
    """'@username' or a Telegram id, removed members included (their work is what moves)."""
    ref = (ref or "").strip()
    query = select(Member).where(Member.account_id == actor.account_id)
    if ref.startswith("@") and len(ref) > 1:
        query = query.where(func.lower(Member.username) == ref[1:].lower())
    elif ref.isdigit() and len(ref) <= 19:
        query = query.where(Member.telegram_id == int(ref))
    elif ref.startswith("#") and ref[1:].isdigit():
        query = query.where(Member.id == int(ref[1:]))
    else:
        raise InvalidInput("member_ref", ref=ref[:64])
    member = (await uow.session.scalars(query.order_by(Member.id).limit(1))).first()
    if member is None:
        raise NotFound("member_not_found", ref=ref[:64])
    return member


def _check_receiver(giver: Member, receiver: Member) -> None:
    if receiver.id == giver.id:
        raise InvalidInput("handover_same", name=receiver.display_name)
    if receiver.status != MemberStatus.ACTIVE:
        raise InvalidInput("member_blocked", name=receiver.display_name)
    if Perm.ORDERS_VIEW_OWN not in parse_perms(receiver.role.permissions):
        raise InvalidInput("cannot_work_orders", name=receiver.display_name)


async def hand_over(uow: UnitOfWork, actor: Actor, giver_id: int, receiver_id: int) -> Handover:
    """Every open order of the giver → the receiver, with the giver's open tasks on any order."""
    actor.require(Perm.ORDERS_ASSIGN)
    actor.require_writable()
    giver = await uow.session.get(Member, giver_id)
    receiver = await uow.session.get(Member, receiver_id)
    for member, ref in ((giver, giver_id), (receiver, receiver_id)):
        if member is None or member.account_id != actor.account_id:
            raise NotFound("member_not_found", ref=str(ref))
    _check_receiver(giver, receiver)
    orders = list(
        await uow.session.scalars(
            select(Order)
            .where(
                Order.account_id == actor.account_id,
                Order.assignee_id == giver.id,
                Order.status.in_(OPEN_STATUSES),
            )
            .order_by(Order.created_at, Order.id)
        )
    )
    account = await uow.session.get(Account, actor.account_id)
    now = uow.clock.now()
    moved: list[str] = []
    tasks = 0
    for order in orders:
        result = await uow.session.execute(
            update(Order)
            .where(Order.id == order.id, Order.assignee_id == giver.id)
            .values(assignee_id=receiver.id, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue  # moved by someone else meanwhile
        await uow.session.refresh(order)
        tasks += await move_open_tasks(uow, actor.member_id, order, giver, receiver, tell=False)
        entry = audit(
            uow,
            actor,
            "order.assigned",
            order,
            before={"assignee": giver.display_name},
            after={"assignee": receiver.display_name},
            reason="handover",
        )
        await uow.session.flush()
        was = notices.shown_as(order.status, giver.display_name)
        await notices.show_change(uow, account, order, receiver.display_name, was, entry)
        moved.append(order.number)
    tasks += await _other_tasks(uow, actor, giver, receiver)
    if moved or tasks:
        await _tell_receiver(uow, account, actor, receiver, giver, moved, tasks)
    await uow.commit()
    return Handover(giver.display_name, receiver.display_name, moved, tasks)


async def _other_tasks(uow: UnitOfWork, actor: Actor, giver: Member, receiver: Member) -> int:
    """The giver's open tasks on orders they did not hold."""
    if Perm.TASKS_MANAGE not in parse_perms(receiver.role.permissions):
        return 0
    rows = (
        await uow.session.execute(
            select(Task, Order.number)
            .join(Order, Order.id == Task.order_id)
            .where(
                Task.account_id == actor.account_id,
                Task.assignee_id == giver.id,
                Task.status == TaskStatus.OPEN,
            )
            .order_by(Task.id)
        )
    ).all()
    for task, number in rows:
        task.assignee_id = receiver.id
        task.updated_at = uow.clock.now()
        audit(
            uow,
            actor,
            "task.reassigned",
            task.order_id,
            before={"assignee": giver.display_name},
            after={
                "number": number,
                "task": task.text[:AUDIT_TEXT],
                "assignee": receiver.display_name,
            },
            reason="handover",
        )
    return len(rows)


async def _tell_receiver(
    uow: UnitOfWork,
    account: Account,
    actor: Actor,
    receiver: Member,
    giver: Member,
    moved: list[str],
    tasks: int,
) -> None:
    if receiver.id == actor.member_id:
        return
    recipient = await outbox.member_recipient(uow, receiver.id)
    if recipient is None:
        return
    me = await uow.session.get(Member, actor.member_id)
    await outbox.enqueue(
        uow,
        account=account,
        event_key=f"handover:{giver.id}:{receiver.id}:{uow.clock.now().isoformat()}",
        kind=HANDED_OVER,
        params={
            "from": giver.display_name,
            "by": me.display_name if me else "",
            "orders": moved[:LISTED],
            "count": len(moved),
            "tasks": tasks,
        },
        recipients=[recipient],
        respect_quiet_hours=False,
    )


async def hand_over_by_refs(uow: UnitOfWork, actor: Actor, giver: str, receiver: str) -> Handover:
    """/handover @from @to."""
    actor.require(Perm.ORDERS_ASSIGN)
    actor.require_writable()
    source = await member_by_ref(uow, actor, giver)
    target = await member_by_ref(uow, actor, receiver)
    return await hand_over(uow, actor, source.id, target.id)


@dataclass(frozen=True, slots=True)
class Receiver:
    member_id: int
    name: str


async def receivers(uow: UnitOfWork, actor: Actor, giver_id: int) -> tuple[str, list[Receiver]]:
    """The member card's Hand over… picker: active members who can work orders."""
    actor.require(Perm.ORDERS_ASSIGN)
    giver = await uow.session.get(Member, giver_id)
    if giver is None or giver.account_id != actor.account_id:
        raise NotFound("member_not_found", ref=str(giver_id))
    members = await uow.session.scalars(
        select(Member)
        .where(Member.account_id == actor.account_id, Member.status == MemberStatus.ACTIVE)
        .order_by(Member.full_name, Member.id)
    )
    found = [
        Receiver(m.id, m.display_name)
        for m in members
        if m.id != giver.id and Perm.ORDERS_VIEW_OWN in parse_perms(m.role.permissions)
    ]
    return giver.display_name, found[:40]
