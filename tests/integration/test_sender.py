"""The outbox sender against the Bot API stand-in on 127.0.0.1, with limits and failures."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import build_bot
from bot.i18n import build_i18n
from bot.notifications.sender import OutboxSender
from core.accounts.models import Account
from core.members.models import Member
from core.notifications import outbox
from core.notifications.limits import Limits, RateLimiter
from core.notifications.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from core.settings import Settings
from tests.support.factories import join, new_account
from tests.support.telegram_standin import TelegramStandIn


@pytest.fixture
async def standin():
    server = TelegramStandIn()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def sender(standin, uows):
    settings = Settings(_env_file=None, bot_token=standin.token, telegram_api_base=standin.base)
    bot = build_bot(settings)
    limits = Limits(per_second=40, per_chat_per_second=5, group_per_minute=20)
    yield OutboxSender(bot, uows, build_i18n("ru"), RateLimiter(limits), batch_size=25)
    await bot.session.close()


async def _enqueue(uows, account_id: int, events: int, chats: list[int]) -> None:
    async with uows() as uow:
        account = await uow.session.get(Account, account_id)
        for n in range(events):
            await outbox.enqueue(
                uow,
                account=account,
                event_key=f"test:{n}",
                kind="test",
                params={"n": n},
                recipients=[outbox.Recipient(chat, "ru") for chat in chats],
                respect_quiet_hours=False,
            )
        await uow.commit()


async def _statuses(uows) -> Counter:
    async with uows() as uow:
        return Counter(await uow.session.scalars(select(OutboxMessage.status)))


async def test_every_message_arrives_once_within_the_limits(standin, sender, uows):
    standin.per_second, standin.per_chat_per_second = 40, 5
    owner = await new_account(uows)
    chats = [101, 102, 103, 104]
    await _enqueue(uows, owner.account_id, 10, chats)
    assert await sender.drain() == 40
    assert sorted(standin.delivered) == sorted(
        (chat, f"Тестовое уведомление #{n}") for n in range(10) for chat in chats
    )
    assert standin.answered_429 == 0
    # Messages to one chat keep their order.
    for chat in chats:
        texts = [t for c, t in standin.delivered if c == chat]
        assert texts == [f"Тестовое уведомление #{n}" for n in range(10)]
    assert await _statuses(uows) == Counter({OutboxStatus.SENT: 40})
    assert await sender.drain() == 0


async def test_429_is_retried_after_retry_after_and_sent_once(standin, sender, uows, clock):
    owner = await new_account(uows)
    standin.script[101] = ["429"]
    await _enqueue(uows, owner.account_id, 1, [101, 102])
    await sender.drain()
    assert [c for c, _ in standin.delivered] == [102]
    clock.advance(timedelta(seconds=standin.retry_after))
    await sender.drain()
    assert sorted(c for c, _ in standin.delivered) == [101, 102]
    async with uows() as uow:
        outcomes = sorted(await uow.session.scalars(select(DeliveryAttempt.outcome)))
    assert outcomes == ["retry_after", "sent", "sent"]


async def test_network_errors_back_off_and_then_deliver(standin, sender, uows, clock):
    owner = await new_account(uows)
    standin.script[101] = ["502", "502"]
    await _enqueue(uows, owner.account_id, 1, [101])
    await sender.drain()
    clock.advance(timedelta(seconds=2))
    await sender.drain()
    assert standin.delivered == []
    clock.advance(timedelta(seconds=4))
    await sender.drain()
    assert [c for c, _ in standin.delivered] == [101]
    async with uows() as uow:
        row = (await uow.session.scalars(select(OutboxMessage))).one()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)


async def test_403_marks_member_unreachable_until_they_write(standin, sender, uows):
    owner = await new_account(uows)
    manager = await join(uows, owner, 3001)
    standin.script[3001] = ["403"]
    await _enqueue(uows, owner.account_id, 1, [3001])
    await sender.drain()
    async with uows() as uow:
        member = await uow.session.get(Member, manager.member_id)
        row = (await uow.session.scalars(select(OutboxMessage))).one()
    assert member.unreachable is True
    assert row.status == OutboxStatus.UNREACHABLE
    assert standin.delivered == []
    async with uows() as uow:
        assert await outbox.member_recipient(uow, manager.member_id) is None
    from core.members.access import check_access

    async with uows() as uow:
        await check_access(uow, 3001, username="user3001", full_name="User 3001")
    async with uows() as uow:
        assert (await outbox.member_recipient(uow, manager.member_id)).chat_id == 3001
