"""The Telegram webhook endpoint: Telegram posts updates here when WEBHOOK_URL is set.

It checks X-Telegram-Bot-Api-Secret-Token (401 otherwise) and that the body is a JSON object
with an integer `update_id` (400 otherwise: invalid or too deeply nested JSON, an array, a
number...), answers at once and hands the update to `feed` in the background — what aiogram's
SimpleRequestHandler does, without this package knowing the dispatcher: the composition root
passes `feed` (bot/webhook.py builds it).

Every Telegram update has an integer `update_id`, so a body without one is not from Telegram and
400 tells its sender so; Telegram itself never gets a 400 it would retry. An update that has an
`update_id` but that the dispatcher cannot read or handle was answered 200 already: it is dropped
with a logged error naming its id, so Telegram does not resend it forever and hold back the
updates behind it. The background task never ends with an unretrieved exception.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

Feed = Callable[[dict[str, Any]], Awaitable[object]]


def is_update(body: Any) -> bool:
    """A JSON object with an integer `update_id`: the one thing every Telegram update has."""
    if not isinstance(body, dict):
        return False
    update_id = body.get("update_id")
    return isinstance(update_id, int) and not isinstance(update_id, bool)


class WebhookEndpoint:
    def __init__(self, path: str, secret: str, feed: Feed) -> None:
        self.path, self._secret, self._feed = path, secret, feed
        self._tasks: set[asyncio.Task[Any]] = set()

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
        task = asyncio.create_task(self._handle(update))
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return web.json_response({})

    async def _handle(self, update: dict[str, Any]) -> None:
        try:
            await self._feed(update)
        except Exception:
            log.exception(
                "webhook update %s failed and is dropped (Telegram was answered 200)",
                update["update_id"],
            )

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        # Always retrieve the outcome: no "Task exception was never retrieved" at shutdown.
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("handling a webhook update failed", exc_info=exc)

    async def drain(self) -> None:
        """Waits for the updates taken so far (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
