"""/shift [on|off] and its button (also under /start)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.replies import replace
from bot.routing import FeatureRouter
from bot.shifts import render
from bot.shifts.callbacks import ShiftCb
from core.db.uow import UnitOfWork
from core.errors import InvalidInput
from core.members.actor import Actor
from core.orders import shifts
from core.orders.announce import parse_switch


async def cmd_shift(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    word = (command.args or "").strip()
    if not word:
        state = await shifts.my_shift(uow, actor)
    else:
        try:
            on = parse_switch(word)
        except InvalidInput:
            await message.answer(render.usage())
            return
        state = await shifts.set_shift(uow, actor, on)
    await message.answer(
        render.state_text(state, actor.timezone), reply_markup=render.button(state)
    )


async def on_shift(
    query: CallbackQuery, callback_data: ShiftCb, uow: UnitOfWork, actor: Actor
) -> None:
    state = await shifts.set_shift(uow, actor, callback_data.on)
    await replace(query.message, render.state_text(state, actor.timezone), render.button(state))


def build_router() -> Router:
    router = FeatureRouter(name="shifts")
    router.message.register(cmd_shift, Command("shift"))
    router.callback_query.register(on_shift, ShiftCb.filter())
    return router
