"""Texts and keyboards of /tasks, the order's Tasks screen, task messages and reminders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.format import q, when
from bot.orders.callbacks import OrderCb, OrderOp
from bot.tasks.callbacks import (
    TAB_CODES,
    FormAction,
    OrderTasksCb,
    OrderTasksOp,
    TaskCb,
    TaskFormCb,
    TaskOp,
    TasksList,
    Where,
)
from core.audit.service import HistoryRow
from core.orders.views import OrderSummary
from core.tasks.models import TaskStatus
from core.tasks.service import PAGE_SIZE, Assignee, OrderTasks, TasksPage, TaskTab
from core.tasks.views import TaskAction, TaskRow

LIST_TEXT = 200  # characters of a task's text in a list; the task's own message shows it all
ORDER_TEXT = 120
LOG_TEXT = 100

TAB_NAMES = {
    TaskTab.MINE: __("Mine"),
    TaskTab.OVERDUE: __("Overdue"),
    TaskTab.ALL: __("All"),
    TaskTab.BLOCKED: __("⛔ Blocked members' tasks"),
}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _icon(row: TaskRow) -> str:
    if row.status == TaskStatus.DONE:
        return "✅"
    if row.overdue:
        return "🔴"
    return "⏰" if row.due_at else "▫️"


def _due(due_at: datetime | None, timezone: str, overdue: bool = False) -> str:
    if due_at is None:
        return _("no due time")
    if overdue:
        return _("overdue since {date}").format(date=when(due_at, timezone))
    return _("due {date}").format(date=when(due_at, timezone))


def _assignee(row: TaskRow) -> str:
    name = q(row.assignee or "—")
    return f"⛔ {name}" if row.assignee_blocked else name


def task_block(row: TaskRow, timezone: str, limit: int | None = None, n: int | None = None) -> str:
    """'1. 🔴 №1042 · overdue since … · @petya' and the task's words under it."""
    if row.status == TaskStatus.DONE:
        state = _("done {date}").format(date=when(row.closed_at, timezone)) if row.closed_at else ""
    else:
        state = _due(row.due_at, timezone, row.overdue)
    head = " · ".join(p for p in (f"№{q(row.order_number)}", state, _assignee(row)) if p)
    prefix = f"{n}. " if n is not None else ""
    text = _short(row.text, limit) if limit else row.text
    return f"{prefix}{_icon(row)} {head}\n    {q(text)}"


_ACTIONS = {
    TaskAction.DONE: ((__("✅ Done"), TaskOp.DONE),),
    TaskAction.POSTPONE: ((__("+1 h"), TaskOp.HOUR), (__("+1 day"), TaskOp.DAY)),
    TaskAction.REOPEN: ((__("↩ Reopen"), TaskOp.REOPEN),),
    TaskAction.REASSIGN: ((__("👤 Reassign…"), TaskOp.PICK),),
}


def _action_buttons(row: TaskRow, **where: Any) -> list[InlineKeyboardButton]:
    buttons = []
    for action in row.actions:
        for label, op in _ACTIONS[action]:
            data = TaskCb(op=op, task_id=row.id, **where).pack()
            buttons.append(InlineKeyboardButton(text=str(label), callback_data=data))
    return buttons


def _order_button(order_id: int, label: str) -> InlineKeyboardButton:
    data = OrderCb(op=OrderOp.CARD, order_id=order_id).pack()
    return InlineKeyboardButton(text=label, callback_data=data)


# ---- /tasks ----------------------------------------------------------------------------------


def tab_label(tab: TaskTab, blocked: int) -> str:
    if tab == TaskTab.BLOCKED:
        return f"{TAB_NAMES[tab]} ({blocked})"
    return str(TAB_NAMES[tab])


def tasks_list(page: TasksPage, timezone: str) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    tabs = [
        InlineKeyboardButton(
            text=("• " if tab == page.tab else "") + tab_label(tab, page.blocked),
            callback_data=TasksList(tab=TAB_CODES[tab], page=0).pack(),
        )
        for tab in page.tabs
    ]
    builder.row(*tabs[:3])
    if len(tabs) > 3:  # the blocked members' tab gets a row of its own: it needs the width
        builder.row(*tabs[3:])
    where = {"where": Where.LIST, "tab": TAB_CODES[page.tab], "page": page.page}
    first = page.page * PAGE_SIZE
    lines = [
        _("<b>Tasks</b> · {tab} · page {page} of {pages}").format(
            tab=tab_label(page.tab, page.blocked), page=page.page + 1, pages=page.pages
        )
    ]
    if page.tab == TaskTab.BLOCKED:
        lines.append(_("Open tasks of blocked members: reassign them to someone who is active."))
    for i, row in enumerate(page.rows, start=first + 1):
        lines.append("")
        lines.append(task_block(row, timezone, LIST_TEXT, i))
        link = _order_button(row.order_id, f"{i} · №{row.order_number}")
        builder.row(link, *_action_buttons(row, **where))
    if not page.rows:
        lines.append(_("No tasks here."))
    nav = []
    code = TAB_CODES[page.tab]
    if page.page > 0:
        data = TasksList(tab=code, page=page.page - 1).pack()
        nav.append(InlineKeyboardButton(text="◀", callback_data=data))
    if page.page + 1 < page.pages:
        data = TasksList(tab=code, page=page.page + 1).pack()
        nav.append(InlineKeyboardButton(text="▶", callback_data=data))
    if nav:
        builder.row(*nav)
    return "\n".join(lines), builder.as_markup()


def task_log_details(entry: HistoryRow, timezone: str) -> str:
    """A task event in the order's log: « its words », then who and by when (or what moved)."""
    before, after = entry.before or {}, entry.after or {}
    line = f" «{q(_short(after.get('task') or '', LOG_TEXT))}»"
    if before:
        changes = [
            f"{_log_value(key, before.get(key), timezone)} → "
            f"{_log_value(key, after.get(key), timezone)}"
            for key in ("assignee", "due")
            if key in before
        ]
        return line + "\n    " + "; ".join(changes) if changes else line
    facts = [q(after["assignee"])] if after.get("assignee") else []
    if "due" in after:
        due = datetime.fromisoformat(after["due"]) if after["due"] else None
        facts.append(_due(due, timezone))
    return line + "\n    " + " · ".join(facts) if facts else line


def _log_value(key: str, value: Any, timezone: str) -> str:
    if value is None:
        return "—"
    return when(datetime.fromisoformat(value), timezone) if key == "due" else q(value)


# ---- the order's Tasks screen ----------------------------------------------------------------


def order_tasks(screen: OrderTasks, timezone: str) -> tuple[str, InlineKeyboardMarkup]:
    order = screen.order
    builder = InlineKeyboardBuilder()
    lines = [_("<b>Tasks of order №{number}</b>").format(number=q(order.number))]
    for i, row in enumerate(screen.rows, start=1):
        lines.append("")
        lines.append(task_block(row, timezone, ORDER_TEXT, i))
        buttons = _action_buttons(row, where=Where.ORDER)
        if buttons:
            show = TaskCb(op=TaskOp.SHOW, task_id=row.id).pack()
            builder.row(InlineKeyboardButton(text=f"{i}.", callback_data=show), *buttons)
    if not screen.rows:
        lines.append(_("No tasks on this order yet."))
    add = OrderTasksCb(op=OrderTasksOp.ADD, order_id=order.id).pack()
    bottom = [_order_button(order.id, _("« Order"))]
    if screen.may_add:
        bottom.insert(0, InlineKeyboardButton(text=_("➕ Add"), callback_data=add))
    builder.row(*bottom)
    return "\n".join(lines), builder.as_markup()


def tasks_button(order_id: int, open_tasks: int) -> InlineKeyboardButton:
    """The order card's button to its Tasks screen."""
    data = OrderTasksCb(op=OrderTasksOp.LIST, order_id=order_id).pack()
    return InlineKeyboardButton(text=_("📋 Tasks ({n})").format(n=open_tasks), callback_data=data)


# ---- one task: /task's answer, a reminder, the reassign picker ------------------------------


def _order_row(order_id: int, number: str) -> InlineKeyboardButton:
    return _order_button(order_id, _("📦 Order №{number}").format(number=number))


def task_view(
    row: TaskRow, timezone: str, header: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [header] if header else []
    lines.append(task_block(row, timezone))
    if row.author and row.author != row.assignee:
        lines.append(_("From: {name}").format(name=q(row.author)))
    builder = InlineKeyboardBuilder()
    buttons = _action_buttons(row, where=Where.ONE)
    if buttons:
        builder.row(*buttons)
    builder.row(_order_row(row.order_id, row.order_number))
    return "\n".join(lines), builder.as_markup()


def added(row: TaskRow) -> str:
    return _("✅ Task added to order №{number}.").format(number=q(row.order_number))


def toast(op: TaskOp, row: TaskRow, timezone: str) -> str:
    if op == TaskOp.DONE:
        return _("Task done.")
    if op == TaskOp.REOPEN:
        return _("Task reopened.")
    if op == TaskOp.ASSIGN:
        return _("The task is now {name}'s.").format(name=row.assignee or "—")
    return _("Postponed to {date}.").format(date=when(row.due_at, timezone))


def back(row: TaskRow, callback: TaskCb) -> InlineKeyboardButton:
    """« Back from the picker to the screen it was opened on."""
    if callback.where == Where.LIST:
        data = TasksList(tab=callback.tab, page=callback.page).pack()
    elif callback.where == Where.ORDER:
        data = OrderTasksCb(op=OrderTasksOp.LIST, order_id=row.order_id).pack()
    else:
        data = TaskCb(op=TaskOp.SHOW, task_id=row.id).pack()
    return InlineKeyboardButton(text=_("« Back"), callback_data=data)


def picker(
    row: TaskRow, members: list[Assignee], callback: TaskCb, timezone: str
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for member in members:
        if member.member_id == row.assignee_id:
            continue
        data = TaskCb(
            op=TaskOp.ASSIGN,
            task_id=row.id,
            where=callback.where,
            tab=callback.tab,
            page=callback.page,
            member_id=member.member_id,
        )
        builder.button(text=member.name, callback_data=data)
    builder.adjust(2)
    builder.row(back(row, callback))
    text = _("Who should do this task instead of {name}?").format(name=q(row.assignee or "—"))
    return text + "\n\n" + task_block(row, timezone), builder.as_markup()


def _notice_keyboard(params: dict[str, Any], postpone: bool) -> InlineKeyboardMarkup:
    task_id = int(params["task_id"])
    row = [
        InlineKeyboardButton(
            text=_("✅ Done"), callback_data=TaskCb(op=TaskOp.DONE, task_id=task_id).pack()
        )
    ]
    if postpone:
        for label, op in _ACTIONS[TaskAction.POSTPONE]:
            data = TaskCb(op=op, task_id=task_id).pack()
            row.append(InlineKeyboardButton(text=str(label), callback_data=data))
    order = _order_row(int(params["order_id"]), str(params["number"]))
    return InlineKeyboardMarkup(inline_keyboard=[row, [order]])


def reminder(params: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The outbox's task_due message, in the assignee's language."""
    due = datetime.fromisoformat(params["due"])
    text = _("⏰ A task on order №{number} is due now ({date}):").format(
        number=q(params["number"]), date=when(due, params["tz"])
    )
    return f"{text}\n{q(params['text'])}", _notice_keyboard(params, postpone=True)


def assigned(params: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The outbox's task_assigned message: someone gave the recipient a task."""
    due = datetime.fromisoformat(params["due"]) if params.get("due") else None
    text = _("📌 {name} gave you a task on order №{number}, {due}:").format(
        name=q(params.get("by") or "—"),
        number=q(params["number"]),
        due=_due(due, params["tz"]),
    )
    return f"{text}\n{q(params['text'])}", _notice_keyboard(params, postpone=False)


# ---- the Add dialog --------------------------------------------------------------------------


def _form_keyboard(*extra: InlineKeyboardButton) -> InlineKeyboardMarkup:
    cancel = InlineKeyboardButton(
        text=_("✖ Cancel"), callback_data=TaskFormCb(action=FormAction.CANCEL).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[*extra, cancel]])


def ask_text(order: OrderSummary) -> tuple[str, InlineKeyboardMarkup]:
    text = _("New task for order №{number}. What needs doing? (up to 1,000 characters)").format(
        number=q(order.number)
    )
    return text, _form_keyboard()


def due_examples() -> str:
    return _("tomorrow · tomorrow 15:00 · on friday · in 2 hours · 25.12 18:00 · 18.00 · +3d")


def ask_due() -> tuple[str, InlineKeyboardMarkup]:
    skip = InlineKeyboardButton(
        text=_("No due time ▶"), callback_data=TaskFormCb(action=FormAction.SKIP).pack()
    )
    text = _("By when? For example: {examples}").format(examples=due_examples())
    return text, _form_keyboard(skip)


def ask_assignee(members: list[Assignee], me: int) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for member in members:
        label = _("Me ({name})").format(name=member.name) if member.member_id == me else member.name
        builder.button(
            text=label, callback_data=TaskFormCb(action=FormAction.WHO, member_id=member.member_id)
        )
    builder.adjust(2)
    builder.row(
        InlineKeyboardButton(
            text=_("✖ Cancel"), callback_data=TaskFormCb(action=FormAction.CANCEL).pack()
        )
    )
    return _("Who does it?"), builder.as_markup()


def due_read(due: datetime, timezone: str) -> str:
    return _("Due: {date}").format(date=when(due, timezone))


def cancelled(had_form: bool) -> str:
    return _("Cancelled: no task was added.") if had_form else _("There is nothing to cancel.")


def not_text() -> tuple[str, InlineKeyboardMarkup]:
    return _("Please answer with text, or press Cancel."), _form_keyboard()


def pick_with_buttons() -> str:
    return _("Pick who does it with the buttons above, or press Cancel.")


def usage() -> str:
    return _(
        "Usage: /task 1042 Call the customer tomorrow 15:00 — the order number, what to do and, "
        "at the end, an optional due time: {examples}. Admins can add @name after the number "
        "to give the task to someone else."
    ).format(examples=due_examples())
