from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from core.members.actor import Actor


class IsMember(Filter):
    """Scopes a router to active members; strangers fall through to the fallback router."""

    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None
