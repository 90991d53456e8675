"""Scheduled jobs. Each claims its work in the database, so running it twice, in two processes
at once or after a crash half-way charges nothing twice and sends nothing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from core.db.uow import UnitOfWorkFactory
from core.settings import Settings
from core.tasks import reminders as task_reminders


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[UnitOfWorkFactory], Awaitable[int]]  # returns how much it processed


def all_jobs(settings: Settings) -> list[Job]:
    """Every job the scheduler runs; features add theirs here."""
    return [
        Job("task_reminders", task_reminders.EVERY, task_reminders.send_due_reminders),
    ]


async def run_all(uows: UnitOfWorkFactory, jobs: list[Job]) -> dict[str, int]:
    """Runs every job once, in order (the console's /clock and tests)."""
    return {job.name: await job.run(uows) for job in jobs}
