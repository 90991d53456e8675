"""The fleet-wide gauges (the outbox queue, read from the shared database) come from one
process of the fleet at a time, the holder of the "metrics" lease: summed across replicas they
are the queue, not the queue times the replicas. Per-process metrics come from every process."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from core.metrics import FLEET_LEASE_TTL, Metrics
from core.notifications.models import OutboxMessage, OutboxStatus
from tests.support.factories import new_account


def samples(text: bytes) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
    }


def fleet_sum(scrapes: list[dict], name: str) -> float:
    return sum(s.get((name, ()), 0.0) for s in scrapes)


async def _pending(uows, count: int) -> None:
    owner = await new_account(uows)
    async with uows() as uow:
        now = uow.clock.now()
        for n in range(count):
            uow.session.add(
                OutboxMessage(
                    account_id=owner.account_id,
                    event_key=f"e{n}",
                    chat_id=n,
                    kind="test",
                    params={},
                    locale="en",
                    status=OutboxStatus.PENDING,
                    not_before=now - timedelta(seconds=30),
                    created_at=now,
                )
            )
        await uow.commit()


async def test_one_process_exports_the_queue_and_the_fleet_sum_is_the_queue(uows, clock):
    await _pending(uows, 3)
    a, b, c = Metrics("a"), Metrics("b"), Metrics("c")
    for _ in range(2):  # every scrape, in any order: a took the lease first and keeps it
        scrapes = [samples(await m.render(uows)) for m in (a, b, c)]
        assert fleet_sum(scrapes, "shopdesk_outbox_pending") == 3
        assert [s[("shopdesk_fleet_gauges_exporter", ())] for s in scrapes] == [1, 0, 0]
        assert ("shopdesk_outbox_oldest_pending_seconds", ()) in scrapes[0]
        assert all(("shopdesk_outbox_oldest_pending_seconds", ()) not in s for s in scrapes[1:])
        assert scrapes[0][("shopdesk_outbox_oldest_pending_seconds", ())] == 30
        for s in scrapes:  # per process, from every one: the database answered each of them
            assert s[("shopdesk_metrics_stale", (("gauge", "outbox_pending"),))] == 0
            assert ("process_resident_memory_bytes", ()) in s

    # a is no longer scraped (stopped, or cut off): once its lease runs out another takes over.
    clock.advance(FLEET_LEASE_TTL - timedelta(seconds=1))
    assert samples(await b.render(uows))[("shopdesk_fleet_gauges_exporter", ())] == 0
    clock.advance(timedelta(seconds=1))
    taken = samples(await b.render(uows))
    assert taken[("shopdesk_fleet_gauges_exporter", ())] == 1
    assert taken[("shopdesk_outbox_pending", ())] == 3
    back = samples(await a.render(uows))  # a returns: b holds it now, a exports nothing
    assert back[("shopdesk_fleet_gauges_exporter", ())] == 0
    assert ("shopdesk_outbox_pending", ()) not in back


async def test_scrapes_at_the_same_moment_elect_exactly_one_exporter(uows, clock):
    processes = [Metrics(f"p{n}") for n in range(4)]
    for _ in range(3):
        clock.advance(FLEET_LEASE_TTL)  # the lease has run out: all of them race for it
        won = await asyncio.gather(*(m.refresh_database_gauges(uows) for m in processes))
        assert sum(won) == 1, won


class _Down:
    def __init__(self, uows) -> None:
        self.clock = uows.clock

    def __call__(self):
        return self

    async def __aenter__(self):
        raise ConnectionRefusedError("the database is down")

    async def __aexit__(self, *exc) -> None:
        return None


async def test_without_the_database_the_exporter_keeps_stale_values_only_while_its_lease_runs(
    uows, monkeypatch
):
    await _pending(uows, 2)
    exporter, other = Metrics("a"), Metrics("b")
    assert await exporter.refresh_database_gauges(uows)
    assert not await other.refresh_database_gauges(uows)
    down = _Down(uows)
    assert await exporter.refresh_database_gauges(down)  # within its lease: last values, stale
    stale = samples(await exporter.render(down))
    assert stale[("shopdesk_outbox_pending", ())] == 2
    assert stale[("shopdesk_metrics_stale", (("gauge", "outbox_pending"),))] == 1
    assert not await other.refresh_database_gauges(down)  # it never held the lease
    gone = samples(await other.render(down))
    assert ("shopdesk_outbox_pending", ()) not in gone
    assert gone[("shopdesk_metrics_stale", (("gauge", "outbox_pending"),))] == 1

    later = asyncio.get_running_loop().time() + FLEET_LEASE_TTL.total_seconds() + 1
    monkeypatch.setattr("core.metrics.time.monotonic", lambda: later)
    lapsed = samples(await exporter.render(down))  # its lease ran out: another may export now
    assert ("shopdesk_outbox_pending", ()) not in lapsed
    assert lapsed[("shopdesk_fleet_gauges_exporter", ())] == 0
