"""/settings [tz|quiet|hours|country value]: one handler, one core service per setting."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.routing import FeatureRouter
from bot.settings import render
from core.accounts import settings as service
from core.db.uow import UnitOfWork
from core.members.actor import Actor

SETTERS = {
    "tz": service.set_timezone,
    "timezone": service.set_timezone,
    "quiet": service.set_quiet_window,
    "hours": service.set_day_hours,
    "country": service.set_country,
    "digest": service.set_digest_hour,
}


async def cmd_settings(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    name, _sep, value = (command.args or "").strip().partition(" ")
    setter = SETTERS.get(name.lower())
    if setter is None or not value.strip():
        await message.answer(render.settings(await service.account_settings(uow, actor)))
        return
    await message.answer(render.saved(await setter(uow, actor, value.strip())))


def build_router() -> Router:
    router = FeatureRouter(name="settings")
    router.message.register(cmd_settings, Command("settings"))
    return router
