"""Prometheus metrics of one process: counted by both adapters, served by web/ at GET /metrics.

They live in core (which imports neither adapter) because the Telegram side (updates, sends)
and the HTTP side (the scrape) both need the same registry; the composition root builds one.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from core.db.uow import UnitOfWorkFactory
from core.notifications.models import OutboxMessage, OutboxStatus


class Metrics:
    """One registry per app (no module-level globals: tests build several apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "shopdesk_updates_total", "Updates handled, by type", ["type"], registry=self.registry
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
            "Notifications waiting to be sent (all processes)",
            registry=self.registry,
        )
        self.job_items = Counter(
            "shopdesk_job_items_total",
            "Items a scheduled job processed in this process (renewals: services renewed)",
            ["job"],
            registry=self.registry,
        )

    async def render(self, uows: UnitOfWorkFactory) -> bytes:
        """The outbox length comes from the database at scrape time (shared by all processes)."""
        async with uows() as uow:
            pending = await uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        self.outbox_pending.set(pending or 0)
        return generate_latest(self.registry)
