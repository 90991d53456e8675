"""Last in line: unknown commands, stray text, stale or forged buttons, inline queries."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, InlineQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.filters import PrivateChat
from bot.members.render import stranger_notice
from bot.routing import FeatureRouter
from core.members.actor import Actor


async def on_unknown(message: Message, actor: Actor | None) -> None:
    if actor is None:
        await message.answer(stranger_notice())
    elif message.text and message.text.startswith("/"):
        await message.answer(_("Unknown command. See /help for the commands you can use."))
    else:
        await message.answer(_("I don't understand this message. See /help."))


async def on_stale_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This button is no longer valid. Open the list again.")
    callback_answer.show_alert = True


async def on_inline(query: InlineQuery) -> None:
    await query.answer([], cache_time=60, is_personal=True)


def build_router() -> Router:
    router = FeatureRouter(name="fallback")
    router.message.register(on_unknown, PrivateChat())
    router.callback_query.register(on_stale_button)
    router.inline_query.register(on_inline)
    return router
