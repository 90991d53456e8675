"""What the webhook endpoint (web/webhook.py) feeds each update to: this bot's dispatcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod


def update_feeder(dp: Dispatcher, bot: Bot) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """A handler's returned method (a webhook reply) is sent as a request, as aiogram does."""

    async def feed(update: dict[str, Any]) -> None:
        result = await dp.feed_raw_update(bot=bot, update=update)
        if isinstance(result, TelegramMethod):
            await dp.silent_call_request(bot=bot, result=result)

    return feed
