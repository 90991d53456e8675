"""The bot process's HTTP server: the intake API, the Telegram webhook, health and metrics."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from bot.intake import api as intake_api
from bot.web_keys import APP

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database (and Redis, if configured) answer within 5 s."""
    app = request.app[APP]
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(5):
            async with app.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        if app.redis is not None:
            async with asyncio.timeout(5):
                await app.redis.ping()
            checks["redis"] = "ok"
    except Exception as exc:  # any failure means "not healthy"; the reason goes to the log
        log.warning("health check failed: %r", exc)
        return web.json_response({"status": "unavailable", **checks}, status=503)
    return web.json_response({"status": "ok", **checks})


async def metrics(request: web.Request) -> web.Response:
    app = request.app[APP]
    body = await app.metrics.render(app.uows)
    return web.Response(
        body=body,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


class WebhookHandler(SimpleRequestHandler):
    """aiogram's handler: checks X-Telegram-Bot-Api-Secret-Token (401 otherwise), answers at
    once and handles the update in the background. The bot session belongs to the app, so
    stopping the HTTP server must not close it; a body that is not JSON is a 400."""

    async def close(self) -> None:
        pass

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(
            request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), self.bot
        ):
            return web.Response(text="Unauthorized", status=401)
        try:
            await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.Response(text="Bad Request", status=400)
        return await super().handle(request)

    async def drain(self) -> None:
        tasks: set[asyncio.Task[Any]] = self._background_feed_update_tasks
        if tasks:
            await asyncio.gather(*list(tasks), return_exceptions=True)


def build_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=intake_api.MAX_BODY)
    web_app[APP] = app
    intake_api.add_routes(web_app)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    if app.webhook is not None:
        app.webhook.register(web_app, path=app.settings.webhook_path)
    return web_app


class WebServer:
    """Started and stopped with the dispatcher (`python -m bot run`)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        settings = self.app.settings
        self.runner = web.AppRunner(build_web_app(self.app), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, settings.http_host, settings.http_port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("HTTP server listening on http://%s:%s", settings.http_host, self.port)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
