"""Open tasks follow their order: when an order changes hands, the previous holder's open tasks
on it go to the new one (who is told, one message per task), so nobody is reminded about an
order they can no longer see in full.

Kept apart from core/tasks/service.py so core/orders can call it without an import cycle.
"""

from __future__ import annotations

from sqlalchemy import select

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.members.models import Member
from core.members.permissions import Perm, parse_perms
from core.notifications import outbox
from core.orders.models import Order
from core.tasks.models import NOTICE_TEXT, Task, TaskStatus

AUDIT_TEXT = 200


async def tell_task_assignee(
    uow: UnitOfWork,
    account: Account,
    task: Task,
    number: str,
    entry_id: int,
    by: str,
    timezone: str | None = None,
) -> None:
    """'You have a new task' to its assignee, through the outbox."""
    recipient = await outbox.member_recipient(uow, task.assignee_id)
    if recipient is None:
        return
    await outbox.enqueue(
        uow,
        account=account,
        event_key=f"task:{task.id}:assigned:{entry_id}",
        kind="task_assigned",
        params={
            "task_id": task.id,
            "order_id": task.order_id,
            "number": number,
            "text": task.text[:NOTICE_TEXT],
            "due": task.due_at.isoformat() if task.due_at is not None else None,
            "tz": timezone or account.timezone,
            "by": by,
        },
        recipients=[recipient],
    )


async def move_open_tasks(
    uow: UnitOfWork,
    actor_id: int | None,
    order: Order,
    previous: Member | None,
    target: Member | None,
    *,
    tell: bool = True,
) -> int:
    """The previous holder's open tasks on `order` → `target` (if the target works on tasks).
    Each move lands in the order's log; the target is told unless `tell` is off (the caller
    tells them once instead). Returns how many moved."""
    if previous is None or target is None or previous.id == target.id:
        return 0
    if Perm.TASKS_MANAGE not in parse_perms(target.role.permissions):
        return 0
    tasks = list(
        await uow.session.scalars(
            select(Task)
            .where(
                Task.order_id == order.id,
                Task.status == TaskStatus.OPEN,
                Task.assignee_id == previous.id,
            )
            .order_by(Task.id)
            .with_for_update()
        )
    )
    if not tasks:
        return 0
    account = await uow.session.get(Account, order.account_id)
    by = ""
    if actor_id is not None:
        me = await uow.session.get(Member, actor_id)
        by = me.display_name if me else ""
    for task in tasks:
        task.assignee_id = target.id
        task.updated_at = uow.clock.now()
        entry = audit(
            uow,
            actor_id,
            "task.reassigned",
            order,
            before={"assignee": previous.display_name},
            after={
                "number": order.number,
                "task": task.text[:AUDIT_TEXT],
                "assignee": target.display_name,
                "with_order": True,
            },
        )
        if tell and target.id != actor_id:
            await uow.session.flush()
            await tell_task_assignee(uow, account, task, order.number, entry.id, by)
    return len(tasks)
