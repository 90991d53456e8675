"""What every Bot API call made while answering a member gets: short 429s waited out once,
edits that cannot apply resolved instead of failing the handler."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import EditMessageReplyMarkup, EditMessageText, SendMessage, TelegramMethod

log = logging.getLogger(__name__)
# The outbox sender handles 429 itself (pausing every send); calls it makes skip the retry here.
background_send: ContextVar[bool] = ContextVar("background_send", default=False)

NOT_MODIFIED = "message is not modified"
EDIT_GONE = ("message to edit not found", "message can't be edited")


class ResilientRequests(BaseRequestMiddleware):
    def __init__(self, max_wait: float = 5.0) -> None:
        self.max_wait = max_wait

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            if background_send.get() or exc.retry_after > self.max_wait:
                raise
            log.info("429 on %s: waiting %ss once", type(method).__name__, exc.retry_after)
            await asyncio.sleep(exc.retry_after)
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            description = exc.message.lower()
            editing = isinstance(method, EditMessageText | EditMessageReplyMarkup)
            if editing and NOT_MODIFIED in description:
                return True  # the screen already shows this: a double tap
            if isinstance(method, EditMessageText) and any(s in description for s in EDIT_GONE):
                # The message is gone or too old: show the new content as a new message.
                return await make_request(
                    bot,
                    SendMessage(
                        chat_id=method.chat_id,
                        text=method.text,
                        reply_markup=method.reply_markup,
                        parse_mode=method.parse_mode,
                    ),
                )
            raise
