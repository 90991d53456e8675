"""The reminder job: each due task reminds its assignee once, through the outbox.

A task is armed while `remind_at` is set. The job claims it with a compare-and-set that clears
`remind_at` and enqueues the reminder in the same transaction, under an event key naming the due
time: a second run, a second process or a restart finds nothing to claim, and the outbox's
unique (event key, chat) would refuse a duplicate anyway. Postponing sets a new due time and
re-arms; closing disarms. Tasks of blocked members stay armed (and silent) until an admin
reassigns them or the member is unblocked.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core.accounts.models import Account
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.members.models import Member, MemberStatus
from core.notifications import outbox
from core.orders.models import Order
from core.tasks.models import NOTICE_TEXT, Task, TaskStatus

BATCH = 100
EVERY = timedelta(minutes=1)


async def _claim(uow: UnitOfWork, task: Task) -> bool:
    result = await uow.session.execute(
        update(Task)
        .where(
            Task.id == task.id,
            Task.status == TaskStatus.OPEN,
            Task.remind_at == task.remind_at,
        )
        .values(remind_at=None, reminded_for=Task.due_at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def _remind(uow: UnitOfWork, task: Task, number: str, account: Account) -> int:
    recipient = await outbox.member_recipient(uow, task.assignee_id)
    if recipient is None:  # the assignee blocked the bot: the reminder is spent, unsent
        return 0
    return await outbox.enqueue(
        uow,
        account=account,
        event_key=f"task:{task.id}:due:{task.due_at.isoformat()}",
        kind="task_due",
        params={
            "task_id": task.id,
            "order_id": task.order_id,
            "number": number,
            "text": task.text[:NOTICE_TEXT],
            "due": task.due_at.isoformat(),
            "tz": account.timezone,
        },
        recipients=[recipient],
        # The member chose this moment: quiet hours do not hold it back.
        respect_quiet_hours=False,
    )


async def _batch(uow: UnitOfWork) -> tuple[int, int]:
    """Claims up to BATCH due tasks; returns (claimed, reminders enqueued)."""
    now = uow.clock.now()
    query = (
        select(Task, Order.number, Account)
        .join(Order, Order.id == Task.order_id)
        .join(Account, Account.id == Task.account_id)
        .join(Member, Member.id == Task.assignee_id)
        .where(
            Task.remind_at.is_not(None),
            Task.remind_at <= now,
            Task.status == TaskStatus.OPEN,
            Member.status == MemberStatus.ACTIVE,
        )
        .order_by(Task.remind_at, Task.id)
        .limit(BATCH)
    )
    if uow.session.bind.dialect.name == "postgresql":
        query = query.with_for_update(of=Task, skip_locked=True)
    claimed = sent = 0
    for task, number, account in (await uow.session.execute(query)).all():
        if await _claim(uow, task):
            claimed += 1
            sent += await _remind(uow, task, number, account)
    await uow.commit()
    return claimed, sent


async def send_due_reminders(uows: UnitOfWorkFactory) -> int:
    """The scheduled job: returns how many reminders it put in the outbox."""
    total = 0
    while True:
        async with uows() as uow:
            claimed, sent = await _batch(uow)
        total += sent
        if claimed < BATCH:
            return total
