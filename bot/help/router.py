"""/help (the commands this member's role may use) and /lang."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.commands import commands_for
from bot.help.callbacks import LangCb
from bot.members.render import role_name
from bot.routing import FeatureRouter
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.members.service import set_locale

LANGUAGE_NAMES = {"ru": "🇷🇺 Русский", "en": "🇬🇧 English"}


def help_text(actor: Actor) -> str:
    lines = [_("Your role: {role}. Commands:").format(role=role_name(actor.role_code))]
    lines += [f"/{c.name} — {c.description}" for c in commands_for(actor)]
    return "\n".join(lines)


def lang_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LangCb(locale=code))
    return builder.as_markup()


async def cmd_help(message: Message, actor: Actor) -> None:
    await message.answer(help_text(actor))


async def cmd_lang(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, i18n: I18n
) -> None:
    if not command.args:
        await message.answer(_("Choose your language:"), reply_markup=lang_keyboard())
        return
    locale = await set_locale(uow, actor, command.args)
    with i18n.use_locale(locale):
        await message.answer(_("Language: English. /help"))


async def on_lang(
    query: CallbackQuery, callback_data: LangCb, uow: UnitOfWork, actor: Actor, i18n: I18n
) -> None:
    locale = await set_locale(uow, actor, callback_data.locale)
    with i18n.use_locale(locale):
        await query.message.edit_text(_("Language: English. /help"))


def build_router() -> Router:
    router = FeatureRouter(name="help")
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_lang, Command("lang"))
    router.callback_query.register(on_lang, LangCb.filter())
    return router
