"""Mounts the Mini App: the page at /app/, its static files, its API under /app/api/."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web.app import api
from web.app.deps import WebAppDeps

STATIC = Path(__file__).resolve().parent / "static"
# Nothing leaves the page but calls to our API and Telegram's own script.
CSP = (
    "default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors https://web.telegram.org https://*.telegram.org"
)


async def page(request: web.Request) -> web.StreamResponse:
    response = web.FileResponse(STATIC / "index.html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def to_page(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/app/")


def add_routes(web_app: web.Application, deps: WebAppDeps) -> None:
    web_app[api.WEBAPP] = deps
    web_app.router.add_get("/app", to_page)
    web_app.router.add_get("/app/", page)
    web_app.router.add_static("/app/static/", STATIC)
    api.add_routes(web_app)
