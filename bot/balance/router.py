"""/balance (the balance, renewals ahead, the runway, last operations); /topup is a dialog
(`bot.balance.dialog`)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.balance import render
from bot.routing import FeatureRouter
from core.db.uow import UnitOfWork
from core.journal import billing
from core.members.actor import Actor


async def cmd_balance(message: Message, uow: UnitOfWork, actor: Actor) -> None:
    view = await billing.balance_overview(uow, actor)
    await message.answer(render.overview(view, actor.timezone))


def build_router() -> Router:
    router = FeatureRouter(name="balance")
    router.message.register(cmd_balance, Command("balance"))
    return router
