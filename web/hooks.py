"""POST /hooks/{platform}/{connector_id}[/{token}]: store webhooks from the shops' platforms.

Verify first (constant time), then read and validate, then store the delivery; 200 only after
it is stored. The order is applied by the connectors' drain, woken right after the answer.
Wrong or missing signature → 401, nothing stored; unknown connector → 404; paused → 410; a
platform's ping → 200 (recorded as a test); unreadable body → 400/413/415; a bad order → 422."""

from __future__ import annotations

import logging

from aiohttp import web

from core.connectors.platforms.base import BadDelivery, Inbound
from core.connectors.service import ConnectorBroken, ConnectorPaused, accept_delivery
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.intake.tokens import Unauthorized
from web.deps import DEPS

log = logging.getLogger(__name__)

MAX_HOOK_BODY = 1024 * 1024  # a Shopify order with 200 line items is far below this


def _error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    error = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return web.json_response({"error": error}, status=status)


async def _read(request: web.Request) -> bytes | None:
    """The body, or None when it is larger than MAX_HOOK_BODY (read no further)."""
    if request.content_length is not None and request.content_length > MAX_HOOK_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_HOOK_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refused(explain, exc: DomainError) -> web.Response:
    if isinstance(exc, Unauthorized):
        return _error(401, "unauthorized", "Wrong or missing signature or token.")
    if isinstance(exc, ConnectorPaused):
        return _error(410, "connector_paused", "This connector is paused in ShopDesk.")
    if isinstance(exc, NotFound):
        return _error(404, "not_found", "No such connector.")
    if isinstance(exc, ConnectorBroken):
        return _error(503, exc.code, "The connector's key cannot be read; ask the operator.")
    if isinstance(exc, BadDelivery):
        return _error(exc.status, exc.code, explain(exc))
    if isinstance(exc, InvalidInput):
        field = exc.params.get("field")
        return _error(422, exc.code, explain(exc), str(field) if field else None)
    if isinstance(exc, Conflict):
        return _error(409, exc.code, explain(exc))
    return _error(422, exc.code, explain(exc))


async def receive(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    if deps.connectors is None:
        return _error(404, "not_found", "No such connector.")
    body = await _read(request)
    if body is None:
        return _error(413, "body_too_large", f"The body exceeds {MAX_HOOK_BODY} bytes.")
    headers = {name.lower(): value for name, value in request.headers.items()}
    content_type = request.content_type if "content-type" in headers else ""
    inbound = Inbound(headers, body, content_type)
    try:
        async with deps.uows() as uow:
            accepted = await accept_delivery(
                uow,
                deps.connectors,
                request.match_info["platform"],
                int(request.match_info["connector_id"]),
                request.match_info.get("token"),
                inbound,
            )
    except DomainError as exc:
        return _refused(deps.explain, exc)
    if accepted.outcome == "stored":
        deps.hooks_wake()
    return web.json_response({"ok": True, "outcome": accepted.outcome})


def add_routes(web_app: web.Application) -> None:
    path = r"/hooks/{platform:[a-z]{1,16}}/{connector_id:\d{1,18}}"
    web_app.router.add_post(path, receive)
    web_app.router.add_post(path + r"/{token:[A-Za-z0-9_-]{1,128}}", receive)
