"""/start: a greeting for members, joining by invite link, one explanation for strangers."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.format import q
from bot.members import render
from bot.routing import FeatureRouter
from bot.shifts import render as shifts_render
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.members.invites import accept_invite
from core.members.permissions import Perm
from core.orders.shifts import my_shift
from core.tariff.catalog import Catalog


async def cmd_start_invite(
    message: Message, command: CommandObject, uow: UnitOfWork, i18n: I18n, catalog: Catalog
) -> None:
    user = message.from_user
    joined = await accept_invite(
        uow,
        command.args,
        telegram_id=user.id,
        username=user.username,
        full_name=user.full_name,
        catalog=catalog,
    )
    locale = joined.member.locale or joined.account.locale
    with i18n.use_locale(locale):
        await message.answer(render.welcome(joined.member, joined.account.name))


async def cmd_start(message: Message, actor: Actor | None, uow: UnitOfWork) -> None:
    if actor is None:
        await message.answer(render.stranger_notice())
        return
    # Those who claim orders get their shift button here.
    markup = None
    if actor.can(Perm.ORDERS_CLAIM):
        markup = shifts_render.button(await my_shift(uow, actor))
    await message.answer(
        _("Hello, {name}! See /help for what you can do.").format(
            name=q(message.from_user.first_name)
        ),
        reply_markup=markup,
    )


def build_router() -> Router:
    router = FeatureRouter(name="start")
    router.message.register(cmd_start_invite, CommandStart(deep_link=True))
    router.message.register(cmd_start, CommandStart())
    return router
