"""The Telegram webhook endpoint: Telegram posts updates here when WEBHOOK_URL is set.

It checks X-Telegram-Bot-Api-Secret-Token (401 otherwise) and that the body is a JSON object
with an integer `update_id` (400 otherwise: invalid or too deeply nested JSON, an array, a
number...). A 2xx is a promise to handle the update exactly once, so it is given only once the
update is written to the inbox (core/inbox), which then handles it — in this process, or in
another one if this one dies. Whatever breaks that promise gets 503 with Retry-After instead,
and Telegram delivers the update again later:

- this process already has MAX_CONCURRENT_UPDATES updates in flight;
- a dependency the handling needs (Redis, when configured) does not answer;
- the database does not take the write.

A redelivery of an update already taken is answered 200 and counted as redelivered; it is not
handled again. Every Telegram update has an integer `update_id`, so a body without one is not
from Telegram and 400 tells its sender so; Telegram itself never gets a 400 it would retry.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from core.inbox.service import Accepted, update_kind
from core.inbox.worker import Busy, InboxWorker
from core.metrics import Metrics

log = logging.getLogger(__name__)

# A check that must pass before an update is taken: returns when the dependency answers.
Gate = Callable[[], Awaitable[object]]
GATE_TIMEOUT = 1.0
RETRY_AFTER = 1  # seconds; Telegram backs off on its own as well


def is_update(body: Any) -> bool:
    """A JSON object with an integer `update_id`: the one thing every Telegram update has."""
    if not isinstance(body, dict):
        return False
    update_id = body.get("update_id")
    return isinstance(update_id, int) and not isinstance(update_id, bool)


def unavailable(reason: str) -> web.Response:
    return web.Response(
        text=f"Service Unavailable: {reason}",
        status=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


class WebhookEndpoint:
    def __init__(
        self,
        path: str,
        secret: str,
        inbox: InboxWorker,
        *,
        gates: dict[str, Gate] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.path, self._secret, self.inbox = path, secret, inbox
        self._gates = dict(gates or {})
        self._metrics = metrics

    def register(self, web_app: web.Application) -> None:
        web_app.router.add_post(self.path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not secrets.compare_digest(given.encode(), self._secret.encode()):
            return web.Response(text="Unauthorized", status=401)
        try:
            update = await request.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
            return web.Response(text="Bad Request: not JSON", status=400)
        if not is_update(update):
            log.warning("webhook: refused a body that is not a Telegram update (no update_id)")
            return web.Response(text="Bad Request: not a Telegram update", status=400)
        if self.inbox.full:
            return unavailable("too many updates in flight")
        if failing := await self._failing_gates():
            return unavailable(f"{', '.join(failing)} unreachable")
        try:
            outcome = await self.inbox.accept(update)
        except Busy:
            return unavailable("too many updates in flight")
        except Exception as exc:
            log.warning("webhook: update %s not taken (503): %r", update["update_id"], exc)
            return unavailable("database unreachable")
        if outcome is Accepted.DUPLICATE and self._metrics is not None:
            self._metrics.redelivered.labels(update_kind(update)).inc()
        return web.json_response({})

    async def _failing_gates(self) -> Sequence[str]:
        failing = []
        for name, gate in self._gates.items():
            try:
                async with asyncio.timeout(GATE_TIMEOUT):
                    await gate()
            except Exception as exc:
                log.warning("webhook: %s did not answer, updates refused (503): %r", name, exc)
                failing.append(name)
        return failing

    async def drain(self) -> None:
        """Waits for the updates taken so far (tests)."""
        await self.inbox.drain()
