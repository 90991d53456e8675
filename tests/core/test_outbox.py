from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.accounts.models import Account
from core.members.models import Member
from core.notifications import outbox
from core.notifications.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from tests.support.factories import join, new_account

LEASE = timedelta(minutes=5)


async def _account(uows, account_id: int) -> Account:
    async with uows() as uow:
        return await uow.session.get(Account, account_id)


async def _enqueue(uows, account, key: str, chats: list[int], *, quiet: bool = False) -> int:
    async with uows() as uow:
        added = await outbox.enqueue(
            uow,
            account=account,
            event_key=key,
            kind="test",
            params={"n": 1},
            recipients=[outbox.Recipient(chat, "ru") for chat in chats],
            respect_quiet_hours=quiet,
        )
        await uow.commit()
    return added


async def _rows(uows) -> list[OutboxMessage]:
    async with uows() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_the_same_event_never_makes_two_messages(uows):
    owner = await new_account(uows)
    account = await _account(uows, owner.account_id)
    assert await _enqueue(uows, account, "renewal:1:2026-11-25", [1, 2]) == 2
    assert await _enqueue(uows, account, "renewal:1:2026-11-25", [1, 2, 3]) == 1
    assert [r.chat_id for r in await _rows(uows)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("utc_time", "expected_utc"),
    [
        # Moscow is UTC+3: 19:00 UTC = 22:00 local → held until 08:00 local = 05:00 UTC.
        (datetime(2026, 11, 22, 19, 0, tzinfo=UTC), datetime(2026, 11, 23, 5, 0, tzinfo=UTC)),
        (datetime(2026, 11, 22, 4, 59, tzinfo=UTC), datetime(2026, 11, 22, 5, 0, tzinfo=UTC)),
        (datetime(2026, 11, 22, 5, 0, tzinfo=UTC), datetime(2026, 11, 22, 5, 0, tzinfo=UTC)),
        (datetime(2026, 11, 22, 18, 59, tzinfo=UTC), datetime(2026, 11, 22, 18, 59, tzinfo=UTC)),
    ],
)
def test_quiet_hours_hold_alerts_until_eight_local(utc_time, expected_utc):
    account = Account(timezone="Europe/Moscow", quiet_hours=True)
    assert outbox.release_time(account, utc_time) == expected_utc
    account.quiet_hours = False
    assert outbox.release_time(account, utc_time) == utc_time


async def test_quiet_hours_apply_at_enqueue(uows, clock):
    owner = await new_account(uows)
    account = await _account(uows, owner.account_id)
    clock.set(datetime(2026, 11, 22, 20, 30, tzinfo=UTC))  # 23:30 in Moscow
    await _enqueue(uows, account, "late", [1], quiet=True)
    async with uows() as uow:
        assert await outbox.claim_due(uow, owner="a", limit=10, lease=LEASE) == []
    clock.set(datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
    async with uows() as uow:
        assert len(await outbox.claim_due(uow, owner="a", limit=10, lease=LEASE)) == 1


async def test_claims_are_disjoint_and_only_the_owner_finishes(uows, clock):
    owner = await new_account(uows)
    account = await _account(uows, owner.account_id)
    await _enqueue(uows, account, "e", list(range(1, 31)))

    async def claim(name: str) -> list[int]:
        async with uows() as uow:
            return [m.id for m in await outbox.claim_due(uow, owner=name, limit=20, lease=LEASE)]

    batches = await asyncio.gather(*(claim(f"s{i}") for i in range(4)))
    claimed = [i for batch in batches for i in batch]
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 30
    first_id = batches[0][0] if batches[0] else claimed[0]
    owner_name = next(f"s{i}" for i, b in enumerate(batches) if first_id in b)
    async with uows() as uow:
        assert not await outbox.mark_sent(uow, first_id, "intruder", 1)
    async with uows() as uow:
        assert await outbox.mark_sent(uow, first_id, owner_name, 77)
    async with uows() as uow:
        assert not await outbox.mark_sent(uow, first_id, owner_name, 78)
    row = next(r for r in await _rows(uows) if r.id == first_id)
    assert (row.status, row.telegram_message_id, row.attempts) == (OutboxStatus.SENT, 77, 1)


async def test_expired_lease_is_claimed_again_and_retry_waits(uows, clock):
    owner = await new_account(uows)
    account = await _account(uows, owner.account_id)
    await _enqueue(uows, account, "e", [1])
    async with uows() as uow:
        (row,) = await outbox.claim_due(uow, owner="dead", limit=10, lease=LEASE)
    async with uows() as uow:
        assert await outbox.claim_due(uow, owner="b", limit=10, lease=LEASE) == []
    clock.advance(LEASE + timedelta(seconds=1))
    async with uows() as uow:
        (again,) = await outbox.claim_due(uow, owner="b", limit=10, lease=LEASE)
    assert again.id == row.id
    async with uows() as uow:
        await outbox.mark_retry(
            uow, row.id, "b", delay=timedelta(seconds=30), outcome="retry_after", error="30"
        )
    async with uows() as uow:
        assert await outbox.claim_due(uow, owner="b", limit=10, lease=LEASE) == []
    clock.advance(timedelta(seconds=30))
    async with uows() as uow:
        assert len(await outbox.claim_due(uow, owner="b", limit=10, lease=LEASE)) == 1
    async with uows() as uow:
        attempts = await uow.session.scalar(select(func.count()).select_from(DeliveryAttempt))
    assert attempts == 1


async def test_alert_recipients_are_owner_and_opted_in_admins(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    await join(uows, owner, 2002, "admin")
    await join(uows, owner, 3001)
    async with uows() as uow:
        member = await uow.session.get(Member, admin.member_id)
        member.alerts_opt_in = True
        await uow.commit()
    account = await _account(uows, owner.account_id)
    async with uows() as uow:
        chats = sorted(r.chat_id for r in await outbox.alert_recipients(uow, account))
    assert chats == [1000, 2001]
    async with uows() as uow:
        await outbox.set_reachable(uow, 2001, False)
    async with uows() as uow:
        chats = sorted(r.chat_id for r in await outbox.alert_recipients(uow, account))
    assert chats == [1000]
