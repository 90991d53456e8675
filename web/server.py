"""The process's HTTP server: the intake API, the Telegram webhook, probes and metrics."""

from __future__ import annotations

import asyncio
import logging
import uuid

from aiohttp import web

from core.logs import log_scope, sane_request_id
from web import hooks, intake
from web.app import routes as webapp
from web.deps import DEPS, PENDING, HealthCheck, WebDeps

log = logging.getLogger(__name__)


# A readiness check that takes longer than this counts as failed ("timeout").
READY_TIMEOUT = 3.0


async def livez(request: web.Request) -> web.Response:
    """200 while the process's event loop runs: the probe for restarting a stuck process."""
    return web.json_response({"status": "ok"})


async def _check(name: str, check: HealthCheck | None) -> str:
    if check is None:
        return "off"
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            result = await check()
    except TimeoutError:
        log.warning("readiness: %s did not answer within %s s", name, READY_TIMEOUT)
        return "timeout"
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("readiness: %s failed: %r", name, exc)
        return "failed"
    return PENDING if result == PENDING else "ok"


async def readyz(request: web.Request) -> web.Response:
    """200 when every dependency (the database; Redis, if configured; Telegram registration)
    answers within 3 s, else 503; the body names each check: "ok", "failed", "timeout", "off"
    (not configured) or "pending" (retried in the background, not counted against readiness)."""
    deps = request.app[DEPS]
    names = list(deps.health)
    results = await asyncio.gather(*(_check(name, deps.health[name]) for name in names))
    checks = dict(zip(names, results, strict=True))
    ready = all(result in ("ok", "off", PENDING) for result in results)
    return web.json_response(
        {"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


async def metrics(request: web.Request) -> web.Response:
    """Always 200: gauges read from the database are marked stale when it does not answer."""
    deps = request.app[DEPS]
    body = await deps.metrics.render(deps.uows)
    return web.Response(
        body=body,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


REQUEST_ID = "X-Request-ID"
INTERNAL_ERROR = "Internal error; retry later. Quote the X-Request-ID header when reporting it."


@web.middleware
async def request_scope(request: web.Request, handler) -> web.StreamResponse:
    """Each request gets an id (the client's X-Request-ID when it looks like one), carried by
    every line logged while it is handled and returned in the response's X-Request-ID."""
    request_id = sane_request_id(request.headers.get(REQUEST_ID)) or uuid.uuid4().hex
    with log_scope(request_id=request_id):
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # aiohttp's own answers (404, 405, 413 …)
            exc.headers[REQUEST_ID] = request_id
            raise
        except Exception:  # logged here, inside the scope: the line names the request
            log.exception("%s %s failed", request.method, request.path)
            response = web.json_response(
                {"error": {"code": "internal_error", "message": INTERNAL_ERROR}}, status=500
            )
    response.headers[REQUEST_ID] = request_id
    return response


def build_web_app(deps: WebDeps) -> web.Application:
    web_app = web.Application(client_max_size=intake.MAX_BODY, middlewares=[request_scope])
    web_app[DEPS] = deps
    intake.add_routes(web_app)
    hooks.add_routes(web_app)
    web_app.router.add_get("/livez", livez)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/healthz", readyz)  # the older name, kept as an alias
    web_app.router.add_get("/metrics", metrics)
    if deps.webhook is not None:
        deps.webhook.register(web_app)
    if deps.webapp is not None:
        webapp.add_routes(web_app, deps.webapp)
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
