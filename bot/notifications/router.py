"""my_chat_member: a member blocked or unblocked the bot in their private chat."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from bot.filters import PrivateChat
from bot.routing import FeatureRouter
from core.db.uow import UnitOfWork
from core.notifications.outbox import set_reachable


async def on_bot_blocked(event: ChatMemberUpdated, uow: UnitOfWork) -> None:
    await set_reachable(uow, event.from_user.id, False)


async def on_bot_unblocked(event: ChatMemberUpdated, uow: UnitOfWork) -> None:
    await set_reachable(uow, event.from_user.id, True)


def build_router() -> Router:
    router = FeatureRouter(name="notifications")
    router.my_chat_member.filter(PrivateChat())
    router.my_chat_member.register(
        on_bot_blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED)
    )
    router.my_chat_member.register(
        on_bot_unblocked, ChatMemberUpdatedFilter(member_status_changed=MEMBER)
    )
    return router
