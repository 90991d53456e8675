"""/history [@member] [action type] [period]: the account's request history, newest first,
with filter buttons and a CSV export of the filtered entries."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.audit import render
from bot.audit.callbacks import HistoryPage
from bot.routing import FeatureRouter
from core.audit.service import HistoryFilter, history, history_export
from core.clock import Clock
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.members.service import find_member
from core.reports.periods import is_period_word, local_today, parse_period
from core.tariff.catalog import Catalog


async def _parse_args(
    uow: UnitOfWork, actor: Actor, args: str | None, clock: Clock
) -> HistoryFilter:
    """Words in any order: '@name' or a Telegram id, a period, an action type."""
    member_id, action, period_words = None, None, []
    for word in (args or "").split():
        if word.startswith("@") or word.isdigit():
            member_id = (await find_member(uow, actor, word)).id
        elif is_period_word(word) or word in ("-", "–", "—"):
            period_words.append(word)
        else:
            action = word
    today = local_today(clock.now(), actor.timezone)
    period = parse_period(" ".join(period_words), today) if period_words else None
    return HistoryFilter(member_id, action, period)


async def cmd_history(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    actor: Actor,
    clock: Clock,
    catalog: Catalog,
) -> None:
    wanted = await _parse_args(uow, actor, command.args, clock)
    page = await history(
        uow, actor, member_id=wanted.member_id, action=wanted.action, period=wanted.period
    )
    text, markup = render.history(page, actor.timezone, catalog)
    await message.answer(text, reply_markup=markup)


async def on_history_csv(
    query: CallbackQuery,
    callback_data: HistoryPage,
    uow: UnitOfWork,
    actor: Actor,
    clock: Clock,
    catalog: Catalog,
) -> None:
    wanted = callback_data.wanted(local_today(clock.now(), actor.timezone))
    rows, truncated = await history_export(uow, actor, wanted)
    document = render.history_csv(rows, actor.timezone, actor.locale, catalog)
    await query.message.answer_document(
        document, caption=render.export_caption(len(rows), truncated)
    )


async def on_history_page(
    query: CallbackQuery,
    callback_data: HistoryPage,
    uow: UnitOfWork,
    actor: Actor,
    clock: Clock,
    catalog: Catalog,
) -> None:
    cb = callback_data
    wanted = cb.wanted(local_today(clock.now(), actor.timezone))
    page = await history(
        uow,
        actor,
        page=cb.page,
        member_id=wanted.member_id,
        action=wanted.action,
        period=wanted.period,
    )
    text, markup = render.history(page, actor.timezone, catalog)
    if cb.e:
        await query.message.edit_text(text, reply_markup=markup)
    else:
        await query.message.answer(text, reply_markup=markup)  # from a member's card


def build_router() -> Router:
    router = FeatureRouter(name="audit")
    router.message.register(cmd_history, Command("history"))
    router.callback_query.register(on_history_csv, HistoryPage.filter(F.csv))
    router.callback_query.register(on_history_page, HistoryPage.filter(~F.csv))
    return router
