"""Scheduled jobs. Each claims its work in the database, so running it twice, in two processes
at once or after a crash half-way charges nothing twice and sends nothing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from core.db.uow import UnitOfWorkFactory
from core.settings import Settings


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[UnitOfWorkFactory], Awaitable[int]]  # returns how much it processed


def all_jobs(settings: Settings) -> list[Job]:
    """Every job the scheduler runs; features add theirs here."""
    return []


async def run_all(uows: UnitOfWorkFactory, jobs: list[Job]) -> dict[str, int]:
    """Runs every job once, in order (the console's /clock and tests)."""
    return {job.name: await job.run(uows) for job in jobs}
