"""/alerts (admins opt in or out), /quiet (owner: quiet hours), the alerts' Top up button."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.alerts import render
from bot.alerts.callbacks import TopUpCb
from bot.balance import render as balance_render
from bot.routing import FeatureRouter
from core.alerts import preferences
from core.db.uow import UnitOfWork
from core.journal import billing
from core.members.actor import Actor
from core.members.permissions import Perm

SWITCH = {"on": True, "off": False, "вкл": True, "выкл": False}


def _switch(command: CommandObject) -> bool | None:
    return SWITCH.get((command.args or "").strip().lower())


async def cmd_alerts(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    on = _switch(command)
    if on is None:
        view = await preferences.alert_settings(uow, actor)
        extra = [render.usage("alerts")] if command.args else []
        await message.answer("\n\n".join([render.settings(view), *extra]))
        return
    view = await preferences.set_alerts(uow, actor, on)
    await message.answer(render.settings(view))


async def cmd_quiet(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    on = _switch(command)
    if on is None:
        view = await preferences.quiet_settings(uow, actor)
        await message.answer("\n\n".join([render.settings(view), render.usage("quiet")]))
        return
    view = await preferences.set_quiet_hours(uow, actor, on)
    await message.answer(render.settings(view))


async def on_top_up(
    query: CallbackQuery, callback_data: TopUpCb, uow: UnitOfWork, actor: Actor
) -> None:
    view = await billing.balance_overview(uow, actor)
    hint = render.top_up_hint(callback_data.amount, actor.can(Perm.BILLING_MANAGE))
    await query.message.answer(balance_render.overview(view, actor.timezone) + "\n\n" + hint)


def build_router() -> Router:
    router = FeatureRouter(name="alerts")
    router.message.register(cmd_alerts, Command("alerts"))
    router.message.register(cmd_quiet, Command("quiet"))
    router.callback_query.register(on_top_up, TopUpCb.filter())
    return router
