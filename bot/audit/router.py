"""/history [@member]: the account's request history, newest first."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.audit import render
from bot.audit.callbacks import HistoryPage
from core.audit.service import history
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.members.service import find_member


async def cmd_history(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    member_id = None
    if command.args:
        member_id = (await find_member(uow, actor, command.args)).id
    text, markup = render.history(await history(uow, actor, member_id=member_id), actor.timezone)
    await message.answer(text, reply_markup=markup)


async def on_history_page(
    query: CallbackQuery, callback_data: HistoryPage, uow: UnitOfWork, actor: Actor
) -> None:
    page = await history(
        uow, actor, page=callback_data.page, member_id=callback_data.member_id or None
    )
    text, markup = render.history(page, actor.timezone)
    if callback_data.page == 0 and callback_data.member_id:
        await query.message.answer(text, reply_markup=markup)
    else:
        await query.message.edit_text(text, reply_markup=markup)
    await query.answer()


def build_router() -> Router:
    router = Router(name="audit")
    router.message.register(cmd_history, Command("history"))
    router.callback_query.register(on_history_page, HistoryPage.filter())
    return router
