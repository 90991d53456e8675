"""/apitoken: create, rotate or revoke the account's intake API token."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.intake import render
from core.db.uow import UnitOfWork
from core.intake.tokens import issue_token, revoke_token
from core.members.actor import Actor
from core.settings import Settings


async def cmd_apitoken(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, settings: Settings
) -> None:
    arg = (command.args or "").strip().lower()
    if arg in {"revoke", "отозвать"}:
        await revoke_token(uow, actor)
        await message.answer(render.token_revoked())
    elif arg:
        await message.answer(render.token_usage())
    else:
        await message.answer(render.token_issued(await issue_token(uow, actor), settings))


def build_router() -> Router:
    router = Router(name="intake")
    router.message.register(cmd_apitoken, Command("apitoken"))
    return router
