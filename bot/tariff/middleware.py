"""Tells each member of a lapsed account, once, why nothing can be changed."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update

from bot.tariff.render import read_only_notice

log = logging.getLogger(__name__)


class ReadOnlyNoticeMiddleware(BaseMiddleware):
    """After the access check (which claims the notice in the core) and the locale; the update
    itself then goes on as usual: read-only members may still look."""

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        access = data.get("access")
        if access is not None and access.read_only_since is not None and access.actor:
            bot: Bot = data["bot"]
            text = read_only_notice(access.actor.is_owner, access.read_only_since)
            try:
                await bot.send_message(access.actor.telegram_id, text)
            except TelegramAPIError:
                log.warning("could not deliver the read-only notice for update %s", event.update_id)
        return await handler(event, data)
