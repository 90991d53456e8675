"""/orders, /order, /claim, the order card and its buttons, announcement claims."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.orders import notify, render
from bot.orders.callbacks import STATUSES, TABS, OrderCb, OrderOp, OrdersList
from core.clock import Clock
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.orders import service


async def cmd_orders(message: Message, uow: UnitOfWork, actor: Actor, clock: Clock) -> None:
    text, markup = render.orders_list(await service.list_orders(uow, actor), clock.now())
    await message.answer(text, reply_markup=markup)


async def on_orders_page(
    query: CallbackQuery, callback_data: OrdersList, uow: UnitOfWork, actor: Actor, clock: Clock
) -> None:
    cb = callback_data
    page = await service.list_orders(
        uow,
        actor,
        TABS[cb.tab],
        STATUSES[cb.status],
        after=None if cb.back else cb.cursor,
        before=cb.cursor if cb.back else None,
    )
    text, markup = render.orders_list(page, clock.now())
    await notify.replace(query.message, text, markup)
    await query.answer()


async def cmd_order(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    if not command.args:
        await message.answer(render.usage("order"))
        return
    card = await service.order_card_by_number(uow, actor, command.args)
    text, markup = render.order_card(card, actor.timezone)
    await message.answer(text, reply_markup=markup)


async def cmd_claim(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, bot: Bot, i18n: I18n
) -> None:
    if not command.args:
        await message.answer(render.usage("claim"))
        return
    outcome = await service.claim_order_by_number(uow, actor, command.args)
    markup = render.open_button(outcome.order.id) if outcome.mine else None
    await message.answer(render.claim_result(outcome), reply_markup=markup)
    if outcome.won:
        await notify.mark_taken(bot, i18n, outcome.announcements, outcome.order, outcome.holder)


async def _show_card(
    query: CallbackQuery,
    uow: UnitOfWork,
    actor: Actor,
    order_id: int,
    toast: str | None = None,
    alert: bool = False,
) -> None:
    card = await service.order_card(uow, actor, order_id)
    text, markup = render.order_card(card, actor.timezone)
    await notify.replace(query.message, text, markup)
    await query.answer(toast, show_alert=alert)


async def _claim(
    query: CallbackQuery, uow: UnitOfWork, actor: Actor, bot: Bot, i18n: I18n, order_id: int
) -> None:
    outcome = await service.claim_order(uow, actor, order_id)
    if outcome.won:
        await notify.mark_taken(bot, i18n, outcome.announcements, outcome.order, outcome.holder)
    await _show_card(query, uow, actor, order_id, render.claim_result(outcome), not outcome.won)


async def _assign(
    query: CallbackQuery,
    uow: UnitOfWork,
    actor: Actor,
    bot: Bot,
    i18n: I18n,
    order_id: int,
    member_id: int | None,
) -> None:
    outcome = await service.assign_order(uow, actor, order_id, member_id)
    text, markup = render.order_card(outcome.card, actor.timezone)
    await notify.replace(query.message, text, markup)
    await query.answer(_("Done."))
    await notify.tell_assignees(bot, i18n, outcome)
    if outcome.announcements:
        summary = outcome.card.summary
        await notify.mark_taken(bot, i18n, outcome.announcements, summary, summary.assignee)


async def on_order(
    query: CallbackQuery,
    callback_data: OrderCb,
    uow: UnitOfWork,
    actor: Actor,
    bot: Bot,
    i18n: I18n,
) -> None:
    order_id, op = callback_data.order_id, callback_data.op
    if op == OrderOp.CARD:
        await _show_card(query, uow, actor, order_id)
    elif op == OrderOp.CLAIM:
        await _claim(query, uow, actor, bot, i18n, order_id)
    elif op == OrderOp.PICK:
        summary, members = await service.assignable_members(uow, actor, order_id)
        text, markup = render.member_picker(summary, members)
        await notify.replace(query.message, text, markup)
        await query.answer()
    elif op in (OrderOp.ASSIGN, OrderOp.UNASSIGN):
        member_id = callback_data.member_id if op == OrderOp.ASSIGN else None
        await _assign(query, uow, actor, bot, i18n, order_id, member_id)
    elif op == OrderOp.STATUSES:
        text, markup = render.status_picker(await service.order_card(uow, actor, order_id))
        await notify.replace(query.message, text, markup)
        await query.answer()
    elif op == OrderOp.SET_STATUS:
        card = await service.change_status(uow, actor, order_id, callback_data.status)
        text, markup = render.order_card(card, actor.timezone)
        await notify.replace(query.message, text, markup)
        await query.answer(_("Done."))
    elif op == OrderOp.LOG:
        text, markup = render.order_log(
            await service.order_log(uow, actor, order_id), actor.timezone
        )
        await notify.replace(query.message, text, markup)
        await query.answer()


def build_router() -> Router:
    """Member-only handlers (the parent router scopes them)."""
    router = Router(name="orders")
    router.message.register(cmd_orders, Command("orders"))
    router.message.register(cmd_order, Command("order"))
    router.message.register(cmd_claim, Command("claim"))
    router.callback_query.register(on_orders_page, OrdersList.filter())
    router.callback_query.register(on_order, OrderCb.filter())
    return router
