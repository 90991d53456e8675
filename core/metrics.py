"""Prometheus metrics of one process: counted by both adapters, served by web/ at GET /metrics.

They live in core (which imports neither adapter) because the Telegram side (updates, sends)
and the HTTP side (the scrape) both need the same registry; the composition root builds one.

Two kinds. Per-process metrics (counters, histograms, job timings) are exported by every
process: sum the counters across the fleet, take max() of the job timestamps. Fleet-wide gauges
read from the shared database (the outbox queue) are exported by ONE process of the fleet at a
time — the holder of the "metrics" lease (core/leases), taken and renewed at each scrape — so
`sum(shopdesk_outbox_pending)` is the queue, not the queue times the number of replicas, and
only one process spends the queries. (Labelling them by instance instead would leave every
query to remember max() instead of sum().) A process that stops being scraped loses the lease
after FLEET_LEASE_TTL and the next scraped process takes over; shopdesk_fleet_gauges_exporter
says which one exports.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from datetime import timedelta

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func, select

from core.db.uow import UnitOfWorkFactory
from core.leases.service import hold
from core.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# A scrape waits at most this long for the gauges read from the database; past it (or when the
# database fails) they keep their last values and shopdesk_metrics_stale{gauge} says so.
DATABASE_GAUGES_TIMEOUT = 2.0
DATABASE_GAUGES = ("outbox_pending", "outbox_oldest_pending_seconds")
# The lease of the process that exports the fleet-wide gauges; held this long after its last
# scrape. Longer than the scrape interval, or the exporter moves at each scrape (still right).
FLEET_LEASE = "metrics"
FLEET_LEASE_TTL = timedelta(seconds=60)


def process_name() -> str:
    """Tells this process apart from the others of the fleet, also on one host."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Metrics:
    """One registry per app (no module-level globals: tests build several apps)."""

    def __init__(self, holder: str | None = None) -> None:
        self.holder = holder or process_name()
        self._held_until: float | None = None  # time.monotonic() until which we hold the lease
        self.registry = CollectorRegistry()
        # The fleet-wide gauges: rendered only by the process holding the lease.
        self.fleet = CollectorRegistry()
        # prometheus-client's default collectors, on our registry: process_* (memory, CPU,
        # open files, start time), python_info and python_gc_*.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.updates = Counter(
            "shopdesk_updates_total", "Updates handled, by type", ["type"], registry=self.registry
        )
        self.redelivered = Counter(
            "shopdesk_updates_redelivered_total",
            "Updates skipped as already seen (a webhook retry, a polling restart), by type",
            ["type"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "shopdesk_update_seconds",
            "Time to handle one update",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.sent = Counter(
            "shopdesk_messages_sent_total", "Outbox messages delivered", registry=self.registry
        )
        self.throttled = Counter(
            "shopdesk_messages_429_total",
            "Sends answered 429 Too Many Requests",
            registry=self.registry,
        )
        self.failed = Counter(
            "shopdesk_messages_failed_total",
            "Send attempts that failed (retried or given up)",
            ["reason"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "shopdesk_outbox_pending",
            "Notifications waiting to be sent (the whole fleet; exported by one process)",
            registry=self.fleet,
        )
        self.outbox_oldest_pending = Gauge(
            "shopdesk_outbox_oldest_pending_seconds",
            "How long the oldest due notification has waited past its send time (0: none due; "
            "the whole fleet; exported by one process)",
            registry=self.fleet,
        )
        # Per process (every process exports it): whether its last scrape reached the database.
        self.stale = Gauge(
            "shopdesk_metrics_stale",
            "1 when the database did not answer in time at this process's last scrape (a "
            "gauge read from it keeps its last value, if this process exports it), 0 when it did",
            ["gauge"],
            registry=self.registry,
        )
        self.fleet_exporter = Gauge(
            "shopdesk_fleet_gauges_exporter",
            "1 in the one process that exports the fleet-wide gauges (shopdesk_outbox_*), "
            "0 in the others",
            registry=self.registry,
        )
        self.job_items = Counter(
            "shopdesk_job_items_total",
            "Items a scheduled job processed in this process (renewals: services renewed)",
            ["job"],
            registry=self.registry,
        )
        self.job_last_success = Gauge(
            "shopdesk_job_last_success_timestamp_seconds",
            "When a scheduled job last finished without an error in this process (Unix time)",
            ["job"],
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "shopdesk_job_duration_seconds",
            "Time one run of a scheduled job took in this process (failed runs included)",
            ["job"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )

    def job_ran(self, job: str, seconds: float, *, ok: bool) -> None:
        """One run of a scheduled job (called by the scheduler's wrapper in shopdesk/app.py)."""
        self.job_duration.labels(job).observe(seconds)
        if ok:
            self.job_last_success.labels(job).set_to_current_time()

    async def refresh_database_gauges(
        self, uows: UnitOfWorkFactory, timeout: float | None = None
    ) -> bool:
        """Takes or keeps the fleet lease and, holding it, reads the fleet-wide gauges.

        True: this process exports them (fresh, or stale when the database did not answer
        while the lease it took earlier still runs); False: another process does."""
        asked = time.monotonic()
        try:
            async with asyncio.timeout(timeout or DATABASE_GAUGES_TIMEOUT):
                async with uows() as uow:
                    if not await hold(uow, FLEET_LEASE, self.holder, FLEET_LEASE_TTL):
                        self._fresh()
                        return self._exporting(False)
                    self._held_until = asked + FLEET_LEASE_TTL.total_seconds()
                    now = uow.clock.now()
                    pending = await uow.session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status == OutboxStatus.PENDING)
                    )
                    oldest_due = await uow.session.scalar(
                        select(func.min(OutboxMessage.not_before)).where(
                            OutboxMessage.status == OutboxStatus.PENDING,
                            OutboxMessage.not_before <= now,
                        )
                    )
        except Exception as exc:  # the scrape still answers: the values are marked stale
            log.warning("metrics: the database gauges keep their last values: %r", exc)
            for gauge in DATABASE_GAUGES:
                self.stale.labels(gauge).set(1)
            # Still ours until the lease we took runs out; then nobody's until one answers.
            return self._exporting(self._held_until is not None and asked < self._held_until)
        self.outbox_pending.set(pending or 0)
        age = (now - oldest_due).total_seconds() if oldest_due is not None else 0.0
        self.outbox_oldest_pending.set(max(age, 0.0))
        self._fresh()
        return self._exporting(True)

    def _fresh(self) -> None:
        for gauge in DATABASE_GAUGES:
            self.stale.labels(gauge).set(0)

    def _exporting(self, exporting: bool) -> bool:
        if not exporting:
            self._held_until = None
        self.fleet_exporter.set(1 if exporting else 0)
        return exporting

    async def render(self, uows: UnitOfWorkFactory) -> bytes:
        """The Prometheus text; never raises because the database is down (see above)."""
        exporting = await self.refresh_database_gauges(uows)
        body = generate_latest(self.registry)
        return body + generate_latest(self.fleet) if exporting else body
