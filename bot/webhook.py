"""What the inbox (core/inbox) feeds each webhook update to: this bot's dispatcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod

from bot.guards import FROM_INBOX


def update_feeder(dp: Dispatcher, bot: Bot) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """A handler's returned method (a webhook reply) is sent as a request, as aiogram does.

    The inbox already made sure this process alone handles the update (its lease), so the
    duplicate guard's memory is not asked: after a crash its in-progress mark would hide the
    update from the process that takes it over."""

    async def feed(update: dict[str, Any]) -> None:
        result = await dp.feed_raw_update(bot=bot, update=update, **{FROM_INBOX: True})
        if isinstance(result, TelegramMethod):
            await dp.silent_call_request(bot=bot, result=result)

    return feed
