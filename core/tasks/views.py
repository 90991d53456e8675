"""Who may do what with a task, and the row every screen shows it as."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.members.actor import Actor
from core.members.models import MemberStatus
from core.members.permissions import Perm
from core.tasks.models import Task, TaskStatus


class TaskAction(StrEnum):
    DONE = "done"
    REOPEN = "reopen"
    POSTPONE = "postpone"
    REASSIGN = "reassign"


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: int
    order_id: int
    order_number: str
    text: str
    status: TaskStatus
    due_at: datetime | None
    overdue: bool
    author: str | None
    assignee_id: int
    assignee: str | None
    assignee_blocked: bool
    created_at: datetime
    closed_at: datetime | None
    actions: tuple[TaskAction, ...]


def is_task_admin(actor: Actor) -> bool:
    """Admins (whoever assigns orders) pick assignees, reopen anyone's task and see All."""
    return actor.can(Perm.TASKS_MANAGE) and actor.can(Perm.ORDERS_ASSIGN)


def may_work(actor: Actor, task: Task) -> bool:
    """Close or postpone: the assignee, the author or an admin."""
    if not actor.can(Perm.TASKS_MANAGE):
        return False
    mine = actor.member_id in (task.assignee_id, task.author_id)
    return mine or is_task_admin(actor)


def may_reopen(actor: Actor, task: Task) -> bool:
    return actor.can(Perm.TASKS_MANAGE) and (
        task.author_id == actor.member_id or is_task_admin(actor)
    )


def actions_for(actor: Actor, task: Task, assignee_status: str) -> tuple[TaskAction, ...]:
    if task.status == TaskStatus.DONE:
        return (TaskAction.REOPEN,) if may_reopen(actor, task) else ()
    actions = []
    if assignee_status != MemberStatus.ACTIVE and is_task_admin(actor):
        actions.append(TaskAction.REASSIGN)
    if may_work(actor, task):
        actions.append(TaskAction.DONE)
        if assignee_status == MemberStatus.ACTIVE:
            actions.append(TaskAction.POSTPONE)
    return tuple(actions)
