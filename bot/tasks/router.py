"""/tasks, /task, the order's Tasks screen and every task button (reminders' too)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.replies import replace
from bot.routing import FeatureRouter
from bot.tasks import render
from bot.tasks.callbacks import TABS, OrderTasksCb, OrderTasksOp, TaskCb, TaskOp, TasksList, Where
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.tasks import service
from core.tasks.service import Postpone
from core.tasks.views import TaskRow


async def cmd_tasks(message: Message, uow: UnitOfWork, actor: Actor) -> None:
    text, markup = render.tasks_list(await service.list_tasks(uow, actor), actor.timezone)
    await message.answer(text, reply_markup=markup)


async def on_tasks_page(
    query: CallbackQuery, callback_data: TasksList, uow: UnitOfWork, actor: Actor
) -> None:
    page = await service.list_tasks(uow, actor, TABS[callback_data.tab], callback_data.page)
    await replace(query.message, *render.tasks_list(page, actor.timezone))


async def cmd_task(message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor) -> None:
    if not (command.args or "").strip():
        await message.answer(render.usage())
        return
    row = await service.add_task_from_line(uow, actor, command.args)
    text, markup = render.task_view(row, actor.timezone, render.added(row))
    await message.answer(text, reply_markup=markup)


async def on_order_tasks(
    query: CallbackQuery, callback_data: OrderTasksCb, uow: UnitOfWork, actor: Actor
) -> None:
    screen = await service.order_tasks(uow, actor, callback_data.order_id)
    await replace(query.message, *render.order_tasks(screen, actor.timezone))


async def _redraw(
    query: CallbackQuery, uow: UnitOfWork, actor: Actor, cb: TaskCb, row: TaskRow
) -> None:
    """The screen the button was on, as it is now."""
    if cb.where == Where.LIST:
        page = await service.list_tasks(uow, actor, TABS[cb.tab], cb.page)
        text, markup = render.tasks_list(page, actor.timezone)
    elif cb.where == Where.ORDER:
        screen = await service.order_tasks(uow, actor, row.order_id)
        text, markup = render.order_tasks(screen, actor.timezone)
    else:
        text, markup = render.task_view(row, actor.timezone)
    await replace(query.message, text, markup)


async def on_task(
    query: CallbackQuery, callback_data: TaskCb, uow: UnitOfWork, actor: Actor
) -> None:
    row = await service.task_row(uow, actor, callback_data.task_id)
    await _redraw(query, uow, actor, callback_data, row)


async def on_pick(
    query: CallbackQuery, callback_data: TaskCb, uow: UnitOfWork, actor: Actor
) -> None:
    members = await service.assignees(uow, actor)
    row = await service.task_row(uow, actor, callback_data.task_id)
    await replace(query.message, *render.picker(row, members, callback_data, actor.timezone))


async def _changed(
    query: CallbackQuery,
    uow: UnitOfWork,
    actor: Actor,
    cb: TaskCb,
    row: TaskRow,
    callback_answer: CallbackAnswer,
) -> None:
    callback_answer.text = render.toast(cb.op, row, actor.timezone)
    await _redraw(query, uow, actor, cb, row)


async def on_done(
    query: CallbackQuery,
    callback_data: TaskCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    row = await service.close_task(uow, actor, callback_data.task_id)
    await _changed(query, uow, actor, callback_data, row, callback_answer)


async def on_reopen(
    query: CallbackQuery,
    callback_data: TaskCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    row = await service.reopen_task(uow, actor, callback_data.task_id)
    await _changed(query, uow, actor, callback_data, row, callback_answer)


async def on_assign(
    query: CallbackQuery,
    callback_data: TaskCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    cb = callback_data
    row = await service.reassign_task(uow, actor, cb.task_id, cb.member_id)
    await _changed(query, uow, actor, cb, row, callback_answer)


async def on_postpone(
    query: CallbackQuery,
    callback_data: TaskCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    step = Postpone.HOUR if callback_data.op == TaskOp.HOUR else Postpone.DAY
    row = await service.postpone_task(uow, actor, callback_data.task_id, step)
    await _changed(query, uow, actor, callback_data, row, callback_answer)


def build_router() -> Router:
    """Member-only handlers (the parent router scopes them)."""
    router = FeatureRouter(name="tasks")
    router.message.register(cmd_tasks, Command("tasks"))
    router.message.register(cmd_task, Command("task"))
    router.callback_query.register(on_tasks_page, TasksList.filter())
    router.callback_query.register(on_order_tasks, OrderTasksCb.filter(F.op == OrderTasksOp.LIST))
    buttons = router.callback_query
    buttons.register(on_task, TaskCb.filter(F.op == TaskOp.SHOW))
    buttons.register(on_pick, TaskCb.filter(F.op == TaskOp.PICK))
    buttons.register(on_done, TaskCb.filter(F.op == TaskOp.DONE))
    buttons.register(on_reopen, TaskCb.filter(F.op == TaskOp.REOPEN))
    buttons.register(on_assign, TaskCb.filter(F.op == TaskOp.ASSIGN))
    buttons.register(on_postpone, TaskCb.filter(F.op.in_({TaskOp.HOUR, TaskOp.DAY})))
    return router
