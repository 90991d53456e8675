"""Wakes the outbox sender after an update whose unit of work wrote messages to the outbox."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update

from bot.notifications.sender import OutboxSender
from core.notifications import outbox


class WakeSenderMiddleware(BaseMiddleware):
    """Inside the unit-of-work middleware: announcements and notices caused by an update go out
    now instead of at the sender's next poll."""

    def __init__(self, sender: OutboxSender) -> None:
        self.sender = sender

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        finally:
            uow = data.get("uow")
            if uow is not None and outbox.wrote_messages(uow):
                self.sender.wake()
