"""The process's HTTP server: the intake API, the Telegram webhook, health and metrics."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from web import intake
from web.deps import DEPS, WebDeps

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """200 when every dependency (the database; Redis, if configured) answers within 5 s."""
    deps = request.app[DEPS]
    checks: dict[str, str] = {}
    try:
        for name, check in deps.health.items():
            async with asyncio.timeout(5):
                await check()
            checks[name] = "ok"
    except Exception as exc:  # any failure means "not healthy"; the reason goes to the log
        log.warning("health check failed: %r", exc)
        return web.json_response({"status": "unavailable", **checks}, status=503)
    return web.json_response({"status": "ok", **checks})


async def metrics(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    body = await deps.metrics.render(deps.uows)
    return web.Response(
        body=body,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def build_web_app(deps: WebDeps) -> web.Application:
    web_app = web.Application(client_max_size=intake.MAX_BODY)
    web_app[DEPS] = deps
    intake.add_routes(web_app)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    if deps.webhook is not None:
        deps.webhook.register(web_app)
    return web_app


class WebServer:
    """Started and stopped with the dispatcher (`python -m bot run`)."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self.runner = web.AppRunner(build_web_app(self.deps), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.deps.host, self.deps.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("HTTP server listening on http://%s:%s", self.deps.host, self.port)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
