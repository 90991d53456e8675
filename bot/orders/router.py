"""/orders, /order, /claim, the order card and its buttons: one handler per button action.

Every callback query is answered once, by `CallbackAnswers` (bot/middlewares.py); a handler
that has something to say sets `callback_answer.text`. Messages to other chats (announcement
edits, assignment notices) are written by the core with the change and sent by the outbox.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.customers import router as customers_router
from bot.orders import render
from bot.orders.callbacks import OPEN, STATUSES, TABS, CancelCb, OrderCb, OrderOp, OrdersList
from bot.replies import replace
from bot.routing import FeatureRouter
from bot.webapp import with_board_button
from core.clock import Clock
from core.customers.service import find_customers
from core.db.uow import UnitOfWork
from core.errors import PermissionDenied
from core.members.actor import Actor
from core.orders import service
from core.orders.handover import hand_over_by_refs
from core.orders.models import OrderStatus
from core.orders.search import find_orders
from core.orders.views import OrderCard
from core.settings import Settings


async def cmd_orders(
    message: Message, uow: UnitOfWork, actor: Actor, clock: Clock, settings: Settings
) -> None:
    text, markup = render.orders_list(await service.list_orders(uow, actor), clock.now())
    await message.answer(text, reply_markup=with_board_button(markup, settings.webapp_url))


async def on_orders_page(
    query: CallbackQuery,
    callback_data: OrdersList,
    uow: UnitOfWork,
    actor: Actor,
    clock: Clock,
    settings: Settings,
) -> None:
    cb = callback_data
    status = STATUSES[cb.status]
    page = await service.list_orders(
        uow,
        actor,
        TABS[cb.tab],
        None if status == OPEN else status,
        after=None if cb.back else cb.cursor,
        before=cb.cursor if cb.back else None,
        open_only=status == OPEN,
    )
    text, markup = render.orders_list(page, clock.now())
    await replace(
        query.message, text, with_board_button(markup, settings.webapp_url, query.message.chat)
    )


async def cmd_order(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, settings: Settings
) -> None:
    if not command.args:
        await message.answer(render.usage("order"))
        return
    card = await service.order_card_by_number(uow, actor, command.args)
    text, markup = _card(card, actor, settings, message.chat)
    await message.answer(text, reply_markup=markup)


async def cmd_find(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, clock: Clock
) -> None:
    if not (command.args or "").strip():
        await message.answer(render.usage("find"))
        return
    people = await find_customers(uow, actor, command.args, limit=render.FOUND_SHOWN)
    rows = await find_orders(uow, actor, command.args, limit=render.FOUND_SHOWN)
    text, markup = render.found(command.args, rows, clock.now(), people)
    await message.answer(text, reply_markup=markup)


async def cmd_handover(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    refs = (command.args or "").split()
    if len(refs) != 2:
        await message.answer(render.usage("handover"))
        return
    done = await hand_over_by_refs(uow, actor, refs[0], refs[1])
    await message.answer(render.handed_over(done))


async def cmd_claim(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    if not command.args:
        await message.answer(render.usage("claim"))
        return
    outcome = await service.claim_order_by_number(uow, actor, command.args)
    markup = render.open_button(outcome.order.id) if outcome.mine else None
    await message.answer(render.claim_result(outcome), reply_markup=markup)


def _card(
    card: OrderCard, actor: Actor, settings: Settings, chat: Chat
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The order card, with "Open board" under it (a private chat, WEBAPP_URL set)."""
    text, markup = render.order_card(card, actor.timezone)
    return text, with_board_button(markup, settings.webapp_url, chat)


async def _show_card(
    query: CallbackQuery, uow: UnitOfWork, actor: Actor, settings: Settings, order_id: int
) -> None:
    card = await service.order_card(uow, actor, order_id)
    await replace(query.message, *_card(card, actor, settings, query.message.chat))


async def on_card(
    query: CallbackQuery, callback_data: OrderCb, uow: UnitOfWork, actor: Actor, settings: Settings
) -> None:
    await _show_card(query, uow, actor, settings, callback_data.order_id)


async def on_claim(
    query: CallbackQuery,
    callback_data: OrderCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
    settings: Settings,
) -> None:
    outcome = await service.claim_order(uow, actor, callback_data.order_id)
    await _show_card(query, uow, actor, settings, callback_data.order_id)
    callback_answer.text = render.claim_result(outcome)
    callback_answer.show_alert = not outcome.won


async def on_pick(
    query: CallbackQuery, callback_data: OrderCb, uow: UnitOfWork, actor: Actor
) -> None:
    summary, members = await service.assignable_members(uow, actor, callback_data.order_id)
    text, markup = render.member_picker(summary, members)
    await replace(query.message, text, markup)


async def _assign(
    query: CallbackQuery,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
    settings: Settings,
    order_id: int,
    member_id: int | None,
) -> None:
    outcome = await service.assign_order(uow, actor, order_id, member_id)
    await replace(query.message, *_card(outcome.card, actor, settings, query.message.chat))
    callback_answer.text = _("Done.")


async def on_assign(
    query: CallbackQuery,
    callback_data: OrderCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
    settings: Settings,
) -> None:
    cb = callback_data
    await _assign(query, uow, actor, callback_answer, settings, cb.order_id, cb.member_id)


async def on_unassign(
    query: CallbackQuery,
    callback_data: OrderCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
    settings: Settings,
) -> None:
    await _assign(query, uow, actor, callback_answer, settings, callback_data.order_id, None)


async def on_statuses(
    query: CallbackQuery,
    callback_data: OrderCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
    settings: Settings,
) -> None:
    card = await service.order_card(uow, actor, callback_data.order_id)
    if not card.next_statuses:
        # A stale button (the order changed hands or closed meanwhile): say why, show it now.
        await replace(query.message, *_card(card, actor, settings, query.message.chat))
        callback_answer.text = render.why_no_status(card, actor.member_id)
        callback_answer.show_alert = True
        return
    text, markup = render.status_picker(card)
    await replace(query.message, text, markup)


async def _stale(
    query: CallbackQuery,
    uow: UnitOfWork,
    actor: Actor,
    order_id: int,
    callback_answer: CallbackAnswer,
) -> bool:
    """A status button from an old message that leads nowhere now (the order changed hands or
    closed meanwhile): says why and shows the order as it is. A move the member may make in
    general but not this one (new → completed) is left to the service, which names it."""
    card = await service.order_card(uow, actor, order_id)
    if card.next_statuses:
        return False
    text, markup = render.order_card(card, actor.timezone)
    await replace(query.message, text, markup)
    callback_answer.text = render.why_no_status(card, actor.member_id)
    callback_answer.show_alert = True
    return True


async def on_set_status(
    query: CallbackQuery,
    callback_data: OrderCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
    settings: Settings,
) -> None:
    cb = callback_data
    if await _stale(query, uow, actor, cb.order_id, callback_answer):
        return
    card = await service.change_status(uow, actor, cb.order_id, cb.status)
    await replace(query.message, *_card(card, actor, settings, query.message.chat))
    callback_answer.text = _("Done.")


async def on_cancel_for(
    query: CallbackQuery,
    callback_data: CancelCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
    settings: Settings,
) -> None:
    cb = callback_data
    if await _stale(query, uow, actor, cb.order_id, callback_answer):
        return
    card = await service.change_status(uow, actor, cb.order_id, OrderStatus.CANCELLED, cb.reason)
    await replace(query.message, *_card(card, actor, settings, query.message.chat))
    callback_answer.text = _("Done.")


async def on_confirm(
    query: CallbackQuery,
    callback_data: OrderCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
    settings: Settings,
) -> None:
    card = await service.order_card(uow, actor, callback_data.order_id)
    target = OrderStatus(callback_data.status)
    if target not in card.next_statuses:
        await replace(query.message, *_card(card, actor, settings, query.message.chat))
        callback_answer.text = render.why_no_status(card, actor.member_id)
        callback_answer.show_alert = True
        return
    await replace(query.message, *render.confirm_status(card, target))


class CancelForm(StatesGroup):
    reason = State()


async def on_reason(
    query: CallbackQuery, callback_data: OrderCb, uow: UnitOfWork, actor: Actor, state: FSMContext
) -> None:
    card = await service.order_card(uow, actor, callback_data.order_id)
    if OrderStatus.CANCELLED not in card.next_statuses:
        raise PermissionDenied("order_not_yours", number=card.summary.number)
    await state.set_state(CancelForm.reason)
    await state.set_data({"order_id": card.summary.id})
    await query.message.answer(render.ask_reason(card.summary.number))


async def on_reason_text(
    message: Message, uow: UnitOfWork, actor: Actor, state: FSMContext, settings: Settings
) -> None:
    order_id = (await state.get_data())["order_id"]
    card = await service.change_status(uow, actor, order_id, OrderStatus.CANCELLED, message.text)
    await state.clear()
    text, markup = _card(card, actor, settings, message.chat)
    await message.answer(text, reply_markup=markup)


async def on_reason_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(render.reason_kept())


async def on_log(
    query: CallbackQuery, callback_data: OrderCb, uow: UnitOfWork, actor: Actor
) -> None:
    log = await service.order_log(uow, actor, callback_data.order_id)
    text, markup = render.order_log(log, actor.timezone)
    await replace(query.message, text, markup)


ACTIONS = {
    OrderOp.CARD: on_card,
    OrderOp.CLAIM: on_claim,
    OrderOp.PICK: on_pick,
    OrderOp.ASSIGN: on_assign,
    OrderOp.UNASSIGN: on_unassign,
    OrderOp.STATUSES: on_statuses,
    OrderOp.SET_STATUS: on_set_status,
    OrderOp.LOG: on_log,
    OrderOp.CONFIRM: on_confirm,
    OrderOp.REASON: on_reason,
}


def build_router() -> Router:
    """Member-only handlers (the parent router scopes them)."""
    router = FeatureRouter(name="orders")
    router.message.register(cmd_orders, Command("orders"))
    router.message.register(cmd_order, Command("order"))
    router.message.register(cmd_claim, Command("claim"))
    router.message.register(cmd_find, Command("find"))
    router.message.register(cmd_handover, Command("handover"))
    router.callback_query.register(on_orders_page, OrdersList.filter())
    router.callback_query.register(on_cancel_for, CancelCb.filter())
    for op, handler in ACTIONS.items():
        router.callback_query.register(handler, OrderCb.filter(F.op == op))
    router.include_router(customers_router.build_router())  # the customer's card
    return router


def build_reason_router() -> Router:
    """The one dialog step of the orders (a cancel reason in one's own words), apart from the
    command-only orders router so that router stays sealed by its commands."""
    router = FeatureRouter(name="orders-cancel-reason")
    router.message.register(on_reason_cancel, Command("cancel"), StateFilter(CancelForm.reason))
    router.message.register(
        on_reason_text, StateFilter(CancelForm.reason), F.text & ~F.text.startswith("/")
    )
    return router
