"""Messages about orders to other chats: assignment notices, announcements and their edits.

Sent directly and guarded: a member who blocked the bot, or a group that removed it, must not
undo or fail a change that is already committed. (A later issue moves these to the outbox.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot.orders import render
from core.db.uow import UnitOfWorkFactory
from core.orders.announce import ANNOUNCE_EACH_LIMIT, plan_announcements, save_announcements
from core.orders.service import Announcement, AssignOutcome
from core.orders.views import OrderSummary

log = logging.getLogger(__name__)


@contextmanager
def in_locale(i18n: I18n, locale: str) -> Iterator[None]:
    with i18n.context(), i18n.use_locale(locale):
        yield


async def send(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> int | None:
    try:
        message = await bot.send_message(chat_id, text, reply_markup=markup)
    except TelegramAPIError as exc:
        log.warning("could not message chat %s: %s", chat_id, exc)
        return None
    return message.message_id


async def edit(bot: Bot, chat_id: int, message_id: int, text: str) -> None:
    try:
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id)
    except TelegramAPIError as exc:
        log.warning("could not edit message %s in chat %s: %s", message_id, chat_id, exc)


async def replace(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edits a message in place; re-tapping the current tab or filter changes nothing, which
    Telegram reports as an error that is not one."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in str(exc):
            raise


async def tell_assignees(bot: Bot, i18n: I18n, outcome: AssignOutcome) -> None:
    summary = outcome.card.summary
    new = outcome.assignee
    if outcome.previous is not None:
        with in_locale(i18n, outcome.previous.locale):
            text = render.taken_from_you(summary, new.name if new else None)
        await send(bot, outcome.previous.telegram_id, text)
    if new is not None:
        with in_locale(i18n, new.locale):
            text, markup = render.assigned_to_you(summary), render.open_button(summary.id)
        await send(bot, new.telegram_id, text, markup)


async def mark_taken(
    bot: Bot,
    i18n: I18n,
    announcements: tuple[Announcement, ...] | list[Announcement],
    summary: OrderSummary,
    holder: str | None,
) -> None:
    """Every announcement of the order now says who took it (and loses its Claim button)."""
    for item in announcements:
        with in_locale(i18n, item.locale):
            text = render.announcement_taken(summary, holder)
        await edit(bot, item.chat_id, item.message_id, text)


async def announce(
    bot: Bot, i18n: I18n, uows: UnitOfWorkFactory, account_id: int, order_ids: list[int]
) -> int:
    """Announces new unassigned orders; returns how many messages went out."""
    async with uows() as uow:
        plan = await plan_announcements(uow, account_id, order_ids)
    if not plan.orders or not plan.targets:
        return 0
    sent_count = 0
    if len(plan.orders) > ANNOUNCE_EACH_LIMIT:
        for target in plan.targets:
            with in_locale(i18n, target.locale):
                text = render.many_new_orders(len(plan.orders))
            sent_count += await send(bot, target.chat_id, text) is not None
        return sent_count
    for summary in plan.orders:
        sent = []
        for target in plan.targets:
            with in_locale(i18n, target.locale):
                text, markup = render.announcement(summary, plan.timezone)
            message_id = await send(bot, target.chat_id, text, markup)
            if message_id is not None:
                sent.append(Announcement(target.chat_id, message_id, target.locale))
        async with uows() as uow:
            holder = await save_announcements(uow, summary.id, sent)
        if holder is not None:
            await mark_taken(bot, i18n, sent, summary, holder)
        sent_count += len(sent)
    return sent_count
