from __future__ import annotations

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import ChatMemberUpdated, Message, TelegramObject

from core.members.actor import Actor


class IsMember(Filter):
    """Scopes a router to active members; strangers fall through to the fallback router."""

    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None


class PrivateChat(Filter):
    """`F.chat.type == "private"` as a coroutine: aiogram runs a plain callable filter (a magic
    filter too) in a worker thread, a thread hop on every message."""

    async def __call__(self, event: Message | ChatMemberUpdated) -> bool:
        return event.chat.type == ChatType.PRIVATE
