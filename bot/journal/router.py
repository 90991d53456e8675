"""/services: the journal, service cards and their buttons, ordering from the catalog."""

from __future__ import annotations

import secrets

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.journal import render
from bot.journal.callbacks import CatalogCb, CatalogOp, SvcCb, SvcOp
from bot.routing import FeatureRouter
from bot.webapp import with_board_button
from core.db.uow import UnitOfWork
from core.journal import service
from core.members.actor import Actor
from core.settings import Settings


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in str(exc):  # a double tap shows the same screen
            raise


async def _show_card(query: CallbackQuery, uow: UnitOfWork, actor: Actor, service_id: int) -> None:
    card = await service.service_card(uow, actor, service_id)
    await _edit(query, *render.card(card, actor.timezone))


async def cmd_services(message: Message, uow: UnitOfWork, actor: Actor, settings: Settings) -> None:
    text, markup = render.journal(await service.journal(uow, actor))
    await message.answer(text, reply_markup=with_board_button(markup, settings.webapp_url))


async def on_journal(
    query: CallbackQuery, uow: UnitOfWork, actor: Actor, settings: Settings
) -> None:
    text, markup = render.journal(await service.journal(uow, actor))
    await _edit(query, text, with_board_button(markup, settings.webapp_url, query.message.chat))


async def on_card(
    query: CallbackQuery, callback_data: SvcCb, uow: UnitOfWork, actor: Actor
) -> None:
    await _show_card(query, uow, actor, callback_data.service_id)


async def on_auto_renew(
    query: CallbackQuery,
    callback_data: SvcCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    on = callback_data.op == SvcOp.RENEW_ON
    await service.set_auto_renew(uow, actor, callback_data.service_id, on)
    callback_answer.text = render.done("renew_on" if on else "renew_off")
    await _show_card(query, uow, actor, callback_data.service_id)


async def on_return_ask(
    query: CallbackQuery, callback_data: SvcCb, uow: UnitOfWork, actor: Actor
) -> None:
    card = await service.return_quote(uow, actor, callback_data.service_id)
    await _edit(query, *render.return_confirm(card))


async def on_return(
    query: CallbackQuery,
    callback_data: SvcCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    sid = callback_data.service_id
    outcome = await service.return_service(uow, actor, sid, callback_data.version)
    callback_answer.text = render.done("returned", outcome)
    await _show_card(query, uow, actor, sid)


async def on_disconnect_ask(
    query: CallbackQuery, callback_data: SvcCb, uow: UnitOfWork, actor: Actor
) -> None:
    card, refund = await service.disconnect_quote(uow, actor, callback_data.service_id)
    await _edit(query, *render.disconnect_confirm(card, refund))


async def on_disconnect(
    query: CallbackQuery,
    callback_data: SvcCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    sid = callback_data.service_id
    outcome = await service.disconnect_service(uow, actor, sid, callback_data.version)
    callback_answer.text = render.done("disconnected", outcome)
    await _show_card(query, uow, actor, sid)


async def on_set_up(
    query: CallbackQuery,
    callback_data: SvcCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    await service.mark_set_up(uow, actor, callback_data.service_id)
    callback_answer.text = render.done("set_up")
    await _show_card(query, uow, actor, callback_data.service_id)


async def on_log(query: CallbackQuery, callback_data: SvcCb, uow: UnitOfWork, actor: Actor) -> None:
    rows = await service.service_log(uow, actor, callback_data.service_id)
    await _edit(query, *render.log(callback_data.service_id, rows, actor.timezone))


async def on_catalog(query: CallbackQuery, uow: UnitOfWork, actor: Actor) -> None:
    items, balance = await service.catalog(uow, actor)
    await _edit(query, *render.catalog(items, balance))


async def on_pick(
    query: CallbackQuery, callback_data: CatalogCb, uow: UnitOfWork, actor: Actor
) -> None:
    quote = await service.order_quote(uow, actor, callback_data.code)
    # A fresh key per confirmation screen: a double tap on it orders once.
    await _edit(query, *render.quote(quote, secrets.token_hex(6)))


async def on_buy(
    query: CallbackQuery,
    callback_data: CatalogCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    outcome = await service.order_service(uow, actor, callback_data.code, callback_data.nonce)
    callback_answer.text = render.ordered(outcome)
    await _show_card(query, uow, actor, outcome.service.id)


def build_router() -> Router:
    router = FeatureRouter(name="journal")
    router.message.register(cmd_services, Command("services"))
    svc = router.callback_query
    svc.register(on_journal, SvcCb.filter(F.op == SvcOp.LIST))
    svc.register(on_card, SvcCb.filter(F.op == SvcOp.CARD))
    svc.register(on_auto_renew, SvcCb.filter(F.op.in_({SvcOp.RENEW_ON, SvcOp.RENEW_OFF})))
    svc.register(on_return_ask, SvcCb.filter(F.op == SvcOp.RETURN))
    svc.register(on_return, SvcCb.filter(F.op == SvcOp.RETURN_YES))
    svc.register(on_disconnect_ask, SvcCb.filter(F.op == SvcOp.DISCONNECT))
    svc.register(on_disconnect, SvcCb.filter(F.op == SvcOp.DISCONNECT_YES))
    svc.register(on_set_up, SvcCb.filter(F.op == SvcOp.SET_UP))
    svc.register(on_log, SvcCb.filter(F.op == SvcOp.LOG))
    svc.register(on_catalog, CatalogCb.filter(F.op == CatalogOp.LIST))
    svc.register(on_pick, CatalogCb.filter(F.op == CatalogOp.PICK))
    svc.register(on_buy, CatalogCb.filter(F.op == CatalogOp.BUY))
    return router
