"""Scheduled jobs. Each claims its work in the database, so running it twice, in two processes
at once or after a crash half-way charges nothing twice and sends nothing twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from core.alerts.jobs import run_platform_reminders, run_service_alerts
from core.connectors import deliveries, status_hooks
from core.connectors.config import ConnectorConfig
from core.db.uow import UnitOfWorkFactory
from core.digest import job as digest
from core.invoices.operator import load_operator
from core.invoices.renewal import issue_renewal_invoices
from core.journal.renewals import run_renewals
from core.orders import claims, shifts
from core.retention import EVERY as RETENTION_EVERY
from core.retention import retained, run_retention
from core.settings import Settings
from core.tariff.catalog import Catalog, load_catalog
from core.tasks import reminders as task_reminders


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[UnitOfWorkFactory], Awaitable[int]]  # returns how much it processed


def all_jobs(settings: Settings, catalog: Catalog | None = None) -> list[Job]:
    """Every job the scheduler runs, in the order the console runs them; features add theirs.

    Renewals come first, so `run_all` works the alerts out after them. The scheduler starts the
    jobs independently (all at once at start-up): an account one job finds locked by another is
    left to its own next run.
    """
    catalog = catalog or load_catalog(settings.tariff_catalog)
    alerts_every = timedelta(minutes=settings.alerts_every_minutes)
    connectors = ConnectorConfig.from_settings(settings)
    return [
        Job("renewals", timedelta(minutes=settings.renewals_every_minutes), run_renewals),
        Job("service_alerts", alerts_every, run_service_alerts),
        Job("platform_reminders", alerts_every, partial(run_platform_reminders, catalog=catalog)),
        Job(
            "renewal_invoices",
            alerts_every,
            partial(
                issue_renewal_invoices,
                operator=load_operator(settings.operator_details),
                catalog=catalog,
            ),
        ),
        Job("task_reminders", task_reminders.EVERY, task_reminders.send_due_reminders),
        Job("claim_timers", claims.EVERY, claims.run_claim_timers),
        Job("shift_auto_off", shifts.EVERY, shifts.end_shifts),
        Job("digest", digest.EVERY, digest.send_digests),
        Job(
            "retention",
            RETENTION_EVERY,
            partial(
                run_retention,
                tables=retained(settings),
                batch_size=settings.retention_batch_size,
            ),
        ),
        Job("connector_deliveries", deliveries.EVERY, partial(deliveries.drain, config=connectors)),
        Job(
            "status_webhooks", status_hooks.EVERY, partial(status_hooks.send_due, config=connectors)
        ),
    ]


async def run_all(uows: UnitOfWorkFactory, jobs: list[Job]) -> dict[str, int]:
    """Runs every job once, in order (the console's /clock and tests)."""
    return {job.name: await job.run(uows) for job in jobs}
