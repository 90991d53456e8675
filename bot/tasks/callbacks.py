"""Typed buttons of /tasks, the order's Tasks screen, task messages and the Add dialog."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from core.tasks.service import TaskTab


class Tab(StrEnum):
    MINE = "m"
    OVERDUE = "o"
    ALL = "a"
    BLOCKED = "b"


TABS = {
    Tab.MINE: TaskTab.MINE,
    Tab.OVERDUE: TaskTab.OVERDUE,
    Tab.ALL: TaskTab.ALL,
    Tab.BLOCKED: TaskTab.BLOCKED,
}
TAB_CODES = {v: k for k, v in TABS.items()}


class TasksList(CallbackData, prefix="tl"):
    tab: Tab = Tab.MINE
    page: int = 0


class TaskOp(StrEnum):
    SHOW = "show"  # the task on its own (a reminder, /task's answer)
    DONE = "done"
    REOPEN = "re"
    HOUR = "h"  # postpone by an hour
    DAY = "d"  # postpone by a day
    PICK = "pick"  # the reassign picker
    ASSIGN = "as"


class Where(StrEnum):
    """The screen the button is on, redrawn after the press."""

    ONE = "1"
    LIST = "l"  # /tasks: tab and page say which
    ORDER = "o"  # the order's Tasks screen


class TaskCb(CallbackData, prefix="tk"):
    op: TaskOp
    task_id: int
    where: Where = Where.ONE
    tab: Tab = Tab.MINE
    page: int = 0
    member_id: int = 0


class OrderTasksOp(StrEnum):
    LIST = "list"
    ADD = "add"


class OrderTasksCb(CallbackData, prefix="ot"):
    op: OrderTasksOp
    order_id: int


class FormAction(StrEnum):
    CANCEL = "cancel"
    SKIP = "skip"  # no due time
    WHO = "who"  # the assignee an admin picked


class TaskFormCb(CallbackData, prefix="tf"):
    action: FormAction
    member_id: int = 0
