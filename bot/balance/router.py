"""/balance (the balance, renewals ahead, the runway, last operations) and /topup."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.balance import render
from bot.routing import FeatureRouter
from core.db.uow import UnitOfWork
from core.journal import billing
from core.ledger.service import MAX_TOP_UP
from core.members.actor import Actor
from core.money import split_amount


async def cmd_balance(message: Message, uow: UnitOfWork, actor: Actor) -> None:
    view = await billing.balance_overview(uow, actor)
    await message.answer(render.overview(view, actor.timezone))


async def cmd_topup(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    # '12 500,50 PP-1042': the amount (however grouped) and the reference; AmountError → errors
    parsed = split_amount(command.args or "", maximum=MAX_TOP_UP)
    if parsed is None:
        await message.answer(render.usage())
        return
    # Without a reference, the message itself is the key: a redelivered update credits once.
    request = f"{message.chat.id}-{message.message_id}"
    result = await billing.top_up(uow, actor, parsed.amount, parsed.rest, request_key=request)
    await message.answer(render.top_up(result, actor.timezone))


def build_router() -> Router:
    router = FeatureRouter(name="balance")
    router.message.register(cmd_balance, Command("balance"))
    router.message.register(cmd_topup, Command("topup"))
    return router
