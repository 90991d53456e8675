"""The customer's card (a button on the order card and in /find) and /merge_customers."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.customers import render
from bot.customers.callbacks import CustomerCb
from bot.replies import replace
from bot.routing import FeatureRouter
from core.clock import Clock
from core.customers.service import customer_card, merge_customers
from core.db.uow import UnitOfWork
from core.members.actor import Actor


async def on_customer(
    query: CallbackQuery, callback_data: CustomerCb, uow: UnitOfWork, actor: Actor, clock: Clock
) -> None:
    card = await customer_card(uow, actor, callback_data.customer_id)
    text, markup = render.customer_card(card, actor.timezone, clock.now(), callback_data.order_id)
    await replace(query.message, text, markup)


async def cmd_merge_customers(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, clock: Clock
) -> None:
    refs = [r.lstrip("#№") for r in (command.args or "").split()]
    if len(refs) != 2 or not all(r.isdigit() for r in refs):
        await message.answer(render.merge_usage())
        return
    card = await merge_customers(uow, actor, int(refs[0]), int(refs[1]))
    text, markup = render.customer_card(card, actor.timezone, clock.now())
    await message.answer(render.merged(card, int(refs[1])) + "\n\n" + text, reply_markup=markup)


def build_router() -> Router:
    router = FeatureRouter(name="customers")
    router.message.register(cmd_merge_customers, Command("merge_customers"))
    router.callback_query.register(on_customer, CustomerCb.filter())
    return router
