"""The retention job deletes finished outbox messages older than the retention period, in
batches of RETENTION_BATCH_SIZE (one transaction each); young and unsent ones stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.jobs import all_jobs
from core.notifications import outbox
from core.notifications.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from core.retention import Retained, retained, run_retention
from core.settings import SettingsError, load_settings
from tests.support.factories import new_account

S = OutboxStatus


async def _outbox(uows, account_id, rows) -> dict[str, int]:
    """rows: (key, status, age in days); each gets one delivery attempt. Returns ids by key."""
    ids = {}
    async with uows() as uow:
        now = uow.clock.now()
        for key, status, age in rows:
            message = OutboxMessage(
                account_id=account_id,
                event_key=key,
                chat_id=1,
                kind="test",
                params={},
                locale="en",
                status=status,
                not_before=now - timedelta(days=age),
                created_at=now - timedelta(days=age),
            )
            uow.session.add(message)
            await uow.session.flush()
            uow.session.add(DeliveryAttempt(outbox_id=message.id, at=now, outcome="sent"))
            ids[key] = message.id
        await uow.commit()
    return ids


async def _left(uows) -> tuple[set[str], int]:
    async with uows() as uow:
        keys = set(await uow.session.scalars(select(OutboxMessage.event_key)))
        attempts = await uow.session.scalar(select(func.count()).select_from(DeliveryAttempt))
    return keys, attempts


def _settings(**values):
    return load_settings(_env_file=None, **values)


async def test_old_finished_messages_go_in_batches_young_and_pending_ones_stay(uows):
    owner = await new_account(uows)
    old = [
        (f"old-{n}", status, 31 + n)
        for n, status in enumerate([S.SENT] * 3 + [S.FAILED, S.SKIPPED])
    ]
    kept = [
        ("pending-old", S.PENDING, 90),  # never sent: not ours to drop
        ("sent-young", S.SENT, 29),
        ("unreachable-young", S.UNREACHABLE, 1),
    ]
    await _outbox(uows, owner.account_id, old + kept)

    calls: list[tuple[int, int]] = []

    async def counted(uow, *, before, limit):
        deleted = await outbox.purge_finished(uow, before=before, limit=limit)
        calls.append((limit, deleted))
        return deleted

    job = next(j for j in all_jobs(_settings(retention_batch_size=2)) if j.name == "retention")
    assert job.every == timedelta(hours=1)
    assert await job.run(uows) == 5
    keys, attempts = await _left(uows)
    assert keys == {k for k, _, _ in kept}
    assert attempts == 3  # the deleted messages' delivery attempts went with them

    await _outbox(uows, owner.account_id, [(f"again-{n}", S.SENT, 40) for n in range(5)])
    tables = [Retained("outbox", 30, counted)]
    assert await run_retention(uows, tables=tables, batch_size=2) == 5
    assert calls == [(2, 2), (2, 2), (2, 1)]  # three transactions, never more than 2 rows
    assert await run_retention(uows, tables=tables, batch_size=2) == 0  # nothing left to do
    assert (await _left(uows))[0] == {k for k, _, _ in kept}


async def test_the_outbox_may_keep_its_own_number_of_days(uows, clock):
    owner = await new_account(uows)
    await _outbox(uows, owner.account_id, [("d20", S.SENT, 20), ("d45", S.SENT, 45)])
    for days, left in ((60, {"d20", "d45"}), (40, {"d20"})):
        settings = _settings(retention_days=15, retention_outbox_days=days)
        assert [(t.name, t.days) for t in retained(settings)] == [("outbox", days), ("inbox", 15)]
        await run_retention(uows, tables=retained(settings), batch_size=100)
        assert (await _left(uows))[0] == left
    assert retained(_settings(retention_days=20))[0].days == 20  # unset: RETENTION_DAYS


def test_retention_periods_shorter_than_15_days_are_refused():
    for name in ("RETENTION_DAYS", "RETENTION_OUTBOX_DAYS"):
        with pytest.raises(SettingsError, match=name):
            _settings(**{name.lower(): 7})
