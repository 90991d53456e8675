from __future__ import annotations

from sqlalchemy import func, select

from bot.guards import MemoryFloodMemory, MemoryUpdateMemory
from core.audit.models import AuditEntry


async def _audit_count(uows) -> int:
    async with uows() as uow:
        return await uow.session.scalar(select(func.count()).select_from(AuditEntry))


async def test_the_same_update_delivered_twice_runs_once(client, shop, uows):
    owner = client(1000)
    update = owner.message_update("/block @vasya")
    before = await _audit_count(uows)
    first = await owner.feed(update)
    again = await owner.feed(update)
    assert len(first.messages) == 1
    assert again.requests == []
    assert await _audit_count(uows) == before + 1


async def test_a_failed_update_runs_again_when_redelivered(client, shop, monkeypatch):
    from core.members import service

    real = service.list_members
    calls = []

    async def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("transient")
        return await real(*args, **kwargs)

    monkeypatch.setattr(service, "list_members", flaky)
    admin = client(2000)
    update = admin.message_update("/users")
    await admin.feed(update)
    reply = await admin.feed(update)
    assert "Участники" in reply.text


async def test_update_memory_is_bounded_in_size_and_time():
    clock = [0.0]
    memory = MemoryUpdateMemory(max_size=100, ttl=60, now=lambda: clock[0])
    for update_id in range(250):
        assert await memory.begin(update_id)
        await memory.finish(update_id, ok=True)
    assert len(memory) == 100
    assert not await memory.begin(249)
    clock[0] = 61
    assert await memory.begin(249)  # forgotten after the TTL
    assert len(memory) == 1


async def test_a_flooding_member_is_slowed_with_one_notice_others_unaffected(client, shop, app):
    app.flood_memory._now = lambda: 500.0  # all 30 updates arrive within the same second
    flooder, other = client(3001), client(3002)
    replies = [await flooder.send("/help") for _ in range(30)]
    answered = [r for r in replies if any("Ваша роль" in t for t in r.texts)]
    notices = [r for r in replies if any("слишком быстро" in t for t in r.texts)]
    assert len(answered) == 20
    assert len(notices) == 1
    assert "Ваша роль" in (await other.send("/help")).text


async def test_flood_memory_lets_a_member_continue_after_a_second():
    clock = [0.0]
    memory = MemoryFloodMemory(per_second=3, now=lambda: clock[0])
    assert [await memory.hit(1) for _ in range(5)] == [
        (True, False),
        (True, False),
        (True, False),
        (False, True),
        (False, False),
    ]
    clock[0] = 1.5
    assert await memory.hit(1) == (True, False)


async def test_the_flood_notice_speaks_the_members_language(client, shop, app):
    """Issue #21: the member chose English; their Telegram is Russian."""
    app.flood_memory._now = lambda: 700.0
    flooder = client(3002, language_code="ru")
    await flooder.send("/lang en")
    app.flood_memory._now = lambda: 900.0
    replies = [await flooder.send("/help") for _ in range(25)]
    notices = [t for r in replies for t in r.texts if "too fast" in t or "слишком быстро" in t]
    assert notices == ["You are sending too fast; I skipped some. Please slow down."]
