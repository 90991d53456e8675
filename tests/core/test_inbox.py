"""The webhook inbox, on SQLite and PostgreSQL: one handling per update id whatever is
redelivered, and a process that dies leaves its updates to the others once the lease lapses."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from core.inbox import service
from core.inbox.models import InboxStatus, InboxUpdate
from core.inbox.service import MAX_ATTEMPTS, Accepted, purge_handled
from core.inbox.worker import Busy, InboxWorker

LEASE = timedelta(seconds=30)


def message(update_id: int, text: str = "hi") -> dict:
    return {"update_id": update_id, "message": {"message_id": 1, "text": text}}


async def row(uows, update_id: int) -> InboxUpdate:
    async with uows() as uow:
        return await uow.session.scalar(
            select(InboxUpdate).where(InboxUpdate.update_id == update_id)
        )


async def test_a_redelivery_is_a_duplicate_while_leased_and_after_it_is_handled(uows, clock):
    async with uows() as uow:
        assert await service.accept(uow, message(1), owner="a", lease=LEASE) is Accepted.NEW
    async with uows() as uow:  # to another process, while "a" holds it
        assert await service.accept(uow, message(1), owner="b", lease=LEASE) is Accepted.DUPLICATE
    async with uows() as uow:
        assert not await service.finish(uow, 1, "b")  # not b's to finish
        assert await service.finish(uow, 1, "a")
    done = await row(uows, 1)
    assert (done.status, done.payload, done.lease_owner) == (InboxStatus.HANDLED, None, None)
    assert done.kind == "message"
    clock.advance(LEASE * 10)
    async with uows() as uow:  # long after: handled means handled
        assert await service.accept(uow, message(1), owner="b", lease=LEASE) is Accepted.DUPLICATE
        assert await service.claim_due(uow, owner="b", limit=10, lease=LEASE) == []


async def test_a_dead_process_s_updates_are_taken_over_once_its_lease_lapses(uows, clock):
    async with uows() as uow:
        for update_id in (10, 11, 12):
            await service.accept(uow, message(update_id), owner="dead", lease=LEASE)
    async with uows() as uow:
        assert await service.claim_due(uow, owner="b", limit=10, lease=LEASE) == []
    clock.advance(LEASE + timedelta(seconds=1))
    async with uows() as uow:  # Telegram's redelivery of one of them: taken at once
        assert await service.accept(uow, message(11), owner="b", lease=LEASE) is Accepted.TAKEN
    async with uows() as uow:
        claimed = await service.claim_due(uow, owner="c", limit=10, lease=LEASE)
    assert [(r.update_id, r.payload, r.attempts) for r in claimed] == [
        (10, message(10), 2),
        (12, message(12), 2),
    ]
    async with uows() as uow:  # leased now: a second claimer gets nothing
        assert await service.claim_due(uow, owner="d", limit=10, lease=LEASE) == []
        assert not await service.finish(uow, 10, "dead")  # the dead one's word counts no more
        assert await service.finish(uow, 10, "c")
        assert await service.finish(uow, 11, "b", error="ValueError: unreadable")
    assert (await row(uows, 11)).status == InboxStatus.FAILED
    assert (await row(uows, 11)).last_error == "ValueError: unreadable"


async def test_extending_a_lease_keeps_a_slow_update_from_being_taken(uows, clock):
    async with uows() as uow:
        await service.accept(uow, message(20), owner="a", lease=LEASE)
    clock.advance(LEASE / 2)
    async with uows() as uow:
        assert await service.extend(uow, [20], "a", LEASE) == 1
    clock.advance(LEASE * 3 / 4)  # past the first lease, within the extended one
    async with uows() as uow:
        assert await service.claim_due(uow, owner="b", limit=10, lease=LEASE) == []
        await service.release(uow, [20], "a")  # a stopping process gives it back
    async with uows() as uow:
        assert [
            r.update_id for r in await service.claim_due(uow, owner="b", limit=1, lease=LEASE)
        ] == [20]


async def test_an_update_that_kills_every_process_is_given_up(uows, clock):
    async with uows() as uow:
        await service.accept(uow, message(30), owner="p0", lease=LEASE)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        clock.advance(LEASE * 2)
        async with uows() as uow:
            claimed = await service.claim_due(uow, owner=f"p{attempt}", limit=5, lease=LEASE)
        assert len(claimed) == (1 if attempt < MAX_ATTEMPTS else 0)
    gone = await row(uows, 30)
    assert gone.status == InboxStatus.FAILED and gone.payload is None
    assert "begun" in gone.last_error


async def test_purge_removes_only_old_done_rows_in_batches(uows, clock):
    async with uows() as uow:
        for update_id in range(40, 46):
            await service.accept(uow, message(update_id), owner="a", lease=LEASE)
        for update_id in range(40, 45):
            await service.finish(uow, update_id, "a")
    clock.advance(timedelta(days=2))
    async with uows() as uow:
        assert await purge_handled(uow, before=clock.now() - timedelta(days=3), limit=100) == 0
        assert await purge_handled(uow, before=clock.now() - timedelta(days=1), limit=3) == 3
    async with uows() as uow:
        assert await purge_handled(uow, before=clock.now() - timedelta(days=1), limit=100) == 2
    async with uows() as uow:
        left = list(await uow.session.scalars(select(InboxUpdate.update_id)))
    assert left == [45]  # the pending one stays


async def test_the_worker_handles_each_update_once_and_refuses_past_its_bound(uows, clock):
    gate = asyncio.Event()
    fed: list[int] = []

    async def feed(update: dict) -> None:
        await gate.wait()
        fed.append(update["update_id"])

    worker = InboxWorker(uows, feed, bound=2, lease=LEASE)
    assert await worker.accept(message(50)) is Accepted.NEW
    assert await worker.accept(message(51)) is Accepted.NEW
    assert worker.full
    try:
        await worker.accept(message(52))
        raise AssertionError("accepted past the bound")
    except Busy:
        pass
    other = InboxWorker(uows, feed, bound=2, lease=LEASE)
    assert await other.accept(message(50)) is Accepted.DUPLICATE  # redelivered elsewhere
    gate.set()
    await worker.drain()
    assert sorted(fed) == [50, 51]
    assert (await row(uows, 50)).status == InboxStatus.HANDLED
    assert await row(uows, 52) is None  # refused: nothing was written, Telegram retries


async def test_a_worker_takes_over_what_a_crashed_one_left(uows, clock):
    fed: list[int] = []

    async def never(update: dict) -> None:
        await asyncio.Event().wait()

    async def feed(update: dict) -> None:
        fed.append(update["update_id"])

    crashed = InboxWorker(uows, never, bound=5, lease=LEASE)
    for update_id in (60, 61):
        await crashed.accept(message(update_id))
    for task in list(crashed._tasks.values()):  # the process dies: nothing is recorded
        task.cancel()
    survivor = InboxWorker(uows, feed, bound=5, lease=LEASE)
    assert await survivor.tick() == 0  # the dead one's lease still runs
    clock.advance(LEASE + timedelta(seconds=1))
    assert await survivor.tick() == 2
    await survivor.drain()
    assert fed == [60, 61]
    assert await survivor.tick() == 0
    async with uows() as uow:
        assert await service.pending_count(uow) == 0


async def test_a_failing_update_is_recorded_failed_not_retried(uows, clock):
    async def feed(update: dict) -> None:
        raise ValueError("unreadable")

    worker = InboxWorker(uows, feed, bound=5, lease=LEASE)
    await worker.accept(message(70))
    await worker.drain()
    assert (await row(uows, 70)).status == InboxStatus.FAILED
    clock.advance(LEASE * 2)
    assert await worker.tick() == 0


async def test_two_processes_claiming_at_once_take_disjoint_updates(uows, clock):
    async with uows() as uow:
        for update_id in range(80, 100):
            await service.accept(uow, message(update_id), owner="dead", lease=LEASE)
    clock.advance(LEASE * 2)

    async def claim(owner: str) -> list[int]:
        taken = []
        for _ in range(10):
            async with uows() as uow:
                rows = await service.claim_due(uow, owner=owner, limit=3, lease=LEASE)
            taken += [r.update_id for r in rows]
        return taken

    first, second = await asyncio.gather(claim("a"), claim("b"))
    assert not set(first) & set(second)
    assert sorted(first + second) == list(range(80, 100))
