"""The card's Tasks → Add: text → due time (or none) → assignee (admins), with Cancel."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.routing import FeatureRouter
from bot.tasks import render
from bot.tasks.callbacks import FormAction, OrderTasksCb, OrderTasksOp, TaskFormCb
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.tasks import service
from core.tasks.views import is_task_admin

TYPED = F.text & ~F.text.startswith("/")


class TaskForm(StatesGroup):
    text = State()
    due = State()
    assignee = State()


async def on_add(
    query: CallbackQuery,
    callback_data: OrderTasksCb,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
) -> None:
    order = await service.start_task(uow, actor, callback_data.order_id)
    await state.set_state(TaskForm.text)
    await state.set_data({"order_id": order.id})
    text, markup = render.ask_text(order)
    await query.message.answer(text, reply_markup=markup)


async def on_text(message: Message, state: FSMContext) -> None:
    await state.update_data(text=service.clean_text(message.text))
    await state.set_state(TaskForm.due)
    text, markup = render.ask_due()
    await message.answer(text, reply_markup=markup)


async def _after_due(
    message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor, due: datetime | None
) -> None:
    await state.update_data(due=due.isoformat() if due else None)
    if not is_task_admin(actor):
        await _finish(message, state, uow, actor, None)
        return
    await state.set_state(TaskForm.assignee)
    text, markup = render.ask_assignee(await service.assignees(uow, actor), actor.member_id)
    await message.answer(text, reply_markup=markup)


async def on_due(message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor) -> None:
    due = await service.read_due(uow, actor, message.text)
    await message.answer(render.due_read(due, actor.timezone))
    await _after_due(message, state, uow, actor, due)


async def on_skip_due(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, actor: Actor
) -> None:
    await _after_due(query.message, state, uow, actor, None)


async def on_assignee(
    query: CallbackQuery,
    callback_data: TaskFormCb,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
) -> None:
    await _finish(query.message, state, uow, actor, callback_data.member_id)


async def _finish(
    message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor, assignee: int | None
) -> None:
    data = await state.get_data()
    due = datetime.fromisoformat(data["due"]) if data.get("due") else None
    row = await service.add_task(uow, actor, data["order_id"], data["text"], due, assignee)
    await state.clear()
    text, markup = render.task_view(row, actor.timezone, render.added(row))
    await message.answer(text, reply_markup=markup)


async def on_cancel(event: Message | CallbackQuery, state: FSMContext) -> None:
    had_form = (await state.get_state() or "").startswith(TaskForm.__full_group_name__)
    await state.clear()
    if isinstance(event, CallbackQuery):
        await event.message.edit_text(render.cancelled(had_form))
    else:
        await event.answer(render.cancelled(had_form))


async def on_not_text(message: Message) -> None:
    text, markup = render.not_text()
    await message.answer(text, reply_markup=markup)


async def on_not_a_pick(message: Message) -> None:
    await message.answer(render.pick_with_buttons())


def build_router() -> Router:
    router = FeatureRouter(name="tasks-dialog")
    router.callback_query.register(on_add, OrderTasksCb.filter(F.op == OrderTasksOp.ADD))
    router.message.register(on_cancel, Command("cancel"), StateFilter(TaskForm))
    router.callback_query.register(on_cancel, TaskFormCb.filter(F.action == FormAction.CANCEL))
    router.callback_query.register(
        on_skip_due, TaskFormCb.filter(F.action == FormAction.SKIP), StateFilter(TaskForm.due)
    )
    router.callback_query.register(
        on_assignee, TaskFormCb.filter(F.action == FormAction.WHO), StateFilter(TaskForm.assignee)
    )
    router.message.register(on_text, StateFilter(TaskForm.text), TYPED)
    router.message.register(on_due, StateFilter(TaskForm.due), TYPED)
    router.message.register(on_not_text, StateFilter(TaskForm.text, TaskForm.due), ~F.text)
    router.message.register(on_not_a_pick, StateFilter(TaskForm.assignee), ~F.text.startswith("/"))
    return router
