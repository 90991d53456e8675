"""The outbox sender against the Bot API stand-in on 127.0.0.1, with limits and failures."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections import Counter
from datetime import timedelta

import pytest
from aiogram import Bot
from aiogram.methods import Response
from aiogram.types import Message
from sqlalchemy import func, select

from bot.i18n import build_i18n
from bot.notifications.sender import LEASE, OutboxSender
from core.accounts.models import Account
from core.members.models import Member
from core.notifications import outbox
from core.notifications.limits import Limits, RateLimiter
from core.notifications.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from tests.support.factories import join, new_account
from tests.support.telegram_standin import TelegramStandIn


@pytest.fixture
def sender(make_sender):
    return make_sender()


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


async def _rows(uows) -> list[OutboxMessage]:
    async with uows() as uow:
        return list(await uow.session.scalars(select(OutboxMessage)))


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


FAST = Limits(per_second=1000, per_chat_per_second=1000)


class Killed(BaseException):
    """The process dies: from now on it neither sends nor writes anything."""


async def _sent_chats(uows) -> Counter:
    async with uows() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage.chat_id).where(OutboxMessage.status == OutboxStatus.SENT)
        )
        return Counter(rows)


async def test_a_crash_before_the_write_sends_again_only_what_was_unwritten(
    standin, make_sender, uows, clock, monkeypatch
):
    owner = await new_account(uows)
    chats = list(range(101, 131))
    await _enqueue(uows, owner.account_id, 1, chats)
    dying = make_sender(FAST, batch_size=10, flush_size=4, flush_interval=60)
    real_record, real_send, writes = outbox.record, dying.bot.send_message, []

    async def record(uow, owner, finished):
        writes.append(len(finished))
        if len(writes) == 3:
            monkeypatch.setattr(dying.bot, "send_message", die)
        if len(writes) >= 3:
            raise Killed
        return await real_record(uow, owner, finished)

    async def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(outbox, "record", record)
    with pytest.raises(Killed):
        await dying.drain()
    monkeypatch.setattr(outbox, "record", real_record)
    dying.bot.send_message = real_send

    committed = await _sent_chats(uows)
    first_life = Counter(c for c, _ in standin.delivered)
    unwritten = set(first_life) - set(committed)
    assert len(committed) >= 8  # two writes of at least four outcomes went through
    assert unwritten  # the dead sender had sent some it could not write
    assert len(unwritten) <= dying.max_in_flight

    restarted = make_sender(FAST)
    assert await restarted.drain() == 0  # the dead sender's leases still hold
    clock.advance(LEASE + timedelta(seconds=1))
    assert await restarted.drain() == len(chats) - len(committed)
    delivered = Counter(c for c, _ in standin.delivered)
    assert set(delivered) == set(chats)
    assert {c for c, n in delivered.items() if n > 1} == unwritten  # only those twice
    assert await _sent_chats(uows) == Counter(chats)


async def test_stop_writes_what_was_sent_and_gives_back_what_was_waiting(
    standin, make_sender, uows
):
    owner = await new_account(uows)
    await _enqueue(uows, owner.account_id, 3, [101])
    # One message to the chat every 2 s, and nothing written before stop() — or 60 s.
    sender = make_sender(
        Limits(per_second=40, per_chat_per_second=0.5), flush_size=100, flush_interval=60
    )
    running = asyncio.create_task(sender.run())
    await standin.wait_for("sendMessage", 1)
    await asyncio.sleep(0.1)  # its answer reaches the sender
    assert await _sent_chats(uows) == Counter()  # sent, held for the next write
    sender.stop()
    await running
    assert [c for c, _ in standin.delivered] == [101]
    rows = sorted(await _rows(uows), key=lambda r: r.id)
    assert [(r.status, r.attempts, r.lease_owner) for r in rows] == [
        (OutboxStatus.SENT, 1, None),
        (OutboxStatus.PENDING, 0, None),  # given back untried: no lease left to wait out
        (OutboxStatus.PENDING, 0, None),
    ]
    async with uows() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 1
    assert await make_sender(FAST).drain() == 2


async def test_failures_and_retries_are_written_with_the_sends_in_one_transaction(
    standin, make_sender, uows, clock, monkeypatch
):
    owner = await new_account(uows)
    manager = await join(uows, owner, 3001)
    standin.script.update({101: ["429"], 3001: ["403"], 103: ["502"]})
    await _enqueue(uows, owner.account_id, 1, [101, 3001, 103, 104])
    async with uows() as uow:
        account = await uow.session.get(Account, owner.account_id)
        await outbox.enqueue(
            uow,
            account=account,
            event_key="broken",
            kind="no-such-kind",
            params={},
            recipients=[outbox.Recipient(105, "ru")],
            respect_quiet_hours=False,
        )
        await uow.commit()
    real_record, writes = outbox.record, []

    async def record(uow, owner, finished):
        writes.append(sorted(f.outcome for f in finished))
        return await real_record(uow, owner, finished)

    monkeypatch.setattr(outbox, "record", record)
    sender = make_sender(FAST, flush_size=100, flush_interval=60)
    assert await sender.drain() == 5
    assert writes == [["forbidden", "network", "render", "retry_after", "sent"]]
    now = clock.now()
    by_chat = {r.chat_id: r for r in await _rows(uows)}
    assert {chat: (r.status, r.attempts) for chat, r in by_chat.items()} == {
        101: (OutboxStatus.PENDING, 1),
        3001: (OutboxStatus.UNREACHABLE, 1),
        103: (OutboxStatus.PENDING, 1),
        104: (OutboxStatus.SENT, 1),
        105: (OutboxStatus.FAILED, 1),
    }
    assert by_chat[101].not_before == now + timedelta(seconds=standin.retry_after)
    assert by_chat[103].not_before == now + timedelta(seconds=2)
    assert by_chat[104].telegram_message_id is not None
    assert all(r.lease_owner is None for r in by_chat.values())
    async with uows() as uow:
        assert (await uow.session.get(Member, manager.member_id)).unreachable is True
        attempts = Counter(await uow.session.scalars(select(DeliveryAttempt.outcome)))
    assert attempts == Counter(["retry_after", "forbidden", "network", "sent", "render"])


async def test_claims_never_run_ahead_of_the_unwritten_bound(
    standin, make_sender, uows, monkeypatch
):
    owner = await new_account(uows)
    await _enqueue(uows, owner.account_id, 1, list(range(101, 161)))
    sender = make_sender(  # sending (100/s) is slower than claiming
        Limits(per_second=100, per_chat_per_second=100),
        batch_size=5,
        max_in_flight=10,
        flush_size=3,
        flush_interval=0.02,
    )
    real_claim, held = outbox.claim_due, []

    async def claim_due(uow, **kwargs):
        claimed = await real_claim(uow, **kwargs)
        held.append(
            await uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.lease_owner == sender.owner,
                    OutboxMessage.status == OutboxStatus.PENDING,
                )
            )
        )
        return claimed

    monkeypatch.setattr(outbox, "claim_due", claim_due)
    assert await sender.drain() == 60
    assert max(held) == 10  # it did claim ahead, and never past the bound
    assert await _statuses(uows) == Counter({OutboxStatus.SENT: 60})


def test_answers_are_checked_against_one_kept_response_model():
    # pydantic caches Response[Message] weakly: if nothing held it, aiogram would build it
    # again (about a millisecond) for every answer after each garbage collection.
    bot = Bot(TelegramStandIn.token)
    sender = OutboxSender(bot, uows=None, i18n=build_i18n("ru"), limiter=RateLimiter(FAST))
    gc.collect()
    kept = weakref.ref(Response[Message])
    gc.collect()
    assert kept() is not None
    del sender
