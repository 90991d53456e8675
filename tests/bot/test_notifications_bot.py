from __future__ import annotations

from datetime import UTC, datetime

from aiogram.types import ChatMemberBanned, ChatMemberMember, ChatMemberUpdated, Update

from core.members.models import Member

BOT = {"id": 42, "is_bot": True, "first_name": "ShopDesk"}


def _my_chat_member(client, old, new, update_id: int) -> Update:
    event = ChatMemberUpdated(
        chat=client.chat,
        from_user=client.user,
        date=datetime.now(UTC),
        old_chat_member=old,
        new_chat_member=new,
    )
    return Update(update_id=update_id, my_chat_member=event)


async def test_blocking_the_bot_marks_member_unreachable_and_back(client, shop, uows):
    petya = client(3001, username="petya")
    member = ChatMemberMember(user=BOT)
    banned = ChatMemberBanned(user=BOT, until_date=0)
    await petya.feed(_my_chat_member(petya, member, banned, 880_001))
    async with uows() as uow:
        assert (await uow.session.get(Member, shop["m1"].member_id)).unreachable is True
    await petya.feed(_my_chat_member(petya, banned, member, 880_002))
    async with uows() as uow:
        assert (await uow.session.get(Member, shop["m1"].member_id)).unreachable is False
