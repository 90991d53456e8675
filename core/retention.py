"""Retention: rows nobody needs any more are deleted, oldest first, in small transactions.

One scheduled job ("retention", hourly) walks `retained(settings)`: each entry names a table,
how many days its rows are kept, and the feature's own batch delete. A feature adds its table
with one line there; the delete lives with the feature (e.g. `core/notifications/outbox.py:
purge_finished`), takes `(uow, before=…, limit=…)`, deletes at most `limit` rows written
before `before`, commits, and returns how many it deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.inbox import service as inbox
from core.notifications import outbox
from core.settings import Settings

log = logging.getLogger(__name__)

EVERY = timedelta(hours=1)


class PurgeBatch(Protocol):
    """A feature's batch delete (see the module's docstring)."""

    def __call__(self, uow: UnitOfWork, *, before: datetime, limit: int) -> Awaitable[int]: ...


@dataclass(frozen=True, slots=True)
class Retained:
    name: str  # the table, in the job's log line
    days: int
    purge: PurgeBatch


def retained(settings: Settings) -> list[Retained]:
    """What the retention job deletes, table by table. Add a table here (one line)."""
    return [
        Retained(
            "outbox",
            settings.retention_outbox_days or settings.retention_days,
            outbox.purge_finished,
        ),
        # RETENTION_DAYS is at least 15: far past the day Telegram may redeliver an update for.
        Retained("inbox", settings.retention_days, inbox.purge_handled),
    ]


async def run_retention(uows: UnitOfWorkFactory, *, tables: list[Retained], batch_size: int) -> int:
    """Deletes, table by table, batch after batch (one transaction each, so no lock is held
    long and other processes' work goes on in between), until a batch comes back short."""
    total = 0
    for table in tables:
        deleted = 0
        while True:
            async with uows() as uow:
                batch = await table.purge(uow, before=_cutoff(uow, table.days), limit=batch_size)
            deleted += batch
            if batch < batch_size:
                break
        if deleted:
            log.info(
                "retention: deleted %s %s rows older than %s days", deleted, table.name, table.days
            )
        total += deleted
    return total


def _cutoff(uow: UnitOfWork, days: int) -> datetime:
    return uow.clock.now() - timedelta(days=days)
