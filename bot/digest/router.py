"""/digest [on|off]: shows or switches the member's morning digest."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.digest import render
from bot.routing import FeatureRouter
from core.db.uow import UnitOfWork
from core.digest import service
from core.members.actor import Actor

SWITCH = {"on": True, "off": False, "вкл": True, "выкл": False}


async def cmd_digest(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    on = SWITCH.get((command.args or "").strip().lower())
    if on is None:
        view = await service.digest_state(uow, actor)
    else:
        view = await service.set_digest(uow, actor, on)
    await message.answer(render.state(view))


def build_router() -> Router:
    router = FeatureRouter(name="digest")
    router.message.register(cmd_digest, Command("digest"))
    return router
