"""Counts every update and its handling time in the process's metrics (core/metrics.py);
an update the duplicate guard skipped counts as a redelivery, not as an update."""

from __future__ import annotations

import time
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update

from bot.guards import REDELIVERED
from core.metrics import Metrics


class MetricsMiddleware(BaseMiddleware):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            if data.get(REDELIVERED):
                self.metrics.redelivered.labels(event.event_type).inc()
            else:
                self.metrics.updates.labels(event.event_type).inc()
                self.metrics.latency.observe(time.perf_counter() - started)
