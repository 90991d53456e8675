"""The Telegram webhook endpoint: Telegram posts updates here when WEBHOOK_URL is set.

It checks X-Telegram-Bot-Api-Secret-Token (401 otherwise) and that the body is JSON (400),
answers at once and hands the update to `feed` in the background — what aiogram's
SimpleRequestHandler does, without this package knowing the dispatcher: the composition root
passes `feed` (bot/webhook.py builds it).
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
        except (ValueError, UnicodeDecodeError):
            return web.Response(text="Bad Request", status=400)
        task = asyncio.create_task(self._feed(update))
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return web.json_response({})

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("handling a webhook update failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Waits for the updates taken so far (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
