"""The HTTP intake API: POST /api/v1/orders (bearer token per account) and its OpenAPI document."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import deque
from typing import Any

from aiohttp import web

from core.errors import Conflict, DomainError, InvalidInput
from core.intake.payload import parse_order, parse_update
from core.intake.tokens import Unauthorized, authenticate
from core.orders.models import Order
from core.orders.service import intake_order
from core.orders.sync import SyncOutcome, put_order
from web.deps import DEPS
from web.openapi import openapi_document

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def _error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.json_response({"error": error}, status=status, headers=headers)


def _domain_error(explain, exc: DomainError) -> web.Response:
    message = explain(exc)
    if isinstance(exc, Conflict) and exc.code == "external_id_conflict":
        # Which fields differ, as a list too, so the store can see what it sent differently.
        error = {"code": exc.code, "message": message, "field": "external_id"}
        error["fields"] = list(exc.params["fields"])
        return web.json_response({"error": error}, status=409)
    if isinstance(exc, Unauthorized):
        return _error(401, "unauthorized", "Unknown or revoked API token.")
    if isinstance(exc, Conflict):
        return _error(409, exc.code, message, field="number")
    if isinstance(exc, InvalidInput) and "field" in exc.params:
        return _error(422, "invalid_field", message, field=str(exc.params["field"]))
    return _error(422, exc.code, message)


def order_json(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.number,
        "external_id": order.external_id,
        "status": order.status,
        "total": order.total,
        "currency": order.currency,
        "assigned": order.assignee_id is not None,
        "created_at": order.created_at.isoformat(),
    }


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class PerTokenLimit:
    """At most `per_minute` requests per token (a sliding minute), checked before anything else."""

    def __init__(self, per_minute: int, now=time.monotonic) -> None:
        self.per_minute, self._now = per_minute, now
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, token: str) -> int:
        """0 if the request may go ahead, else seconds to wait."""
        key = hashlib.sha256(token.encode()).hexdigest()  # raw tokens are never kept
        now = self._now()
        window = self._hits.setdefault(key, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return max(1, int(window[0] + 60 - now) + 1)
        window.append(now)
        if len(self._hits) > 10_000:
            self._hits = {k: w for k, w in self._hits.items() if w and w[-1] > now - 60}
        return 0


LIMIT: web.AppKey[PerTokenLimit] = web.AppKey("shopdesk_intake_limit")


async def _authorized_json(request: web.Request) -> tuple[int, Any] | web.Response:
    """(account id, the parsed body), or the error response: token, rate limit, size, JSON."""
    deps = request.app[DEPS]
    token = _bearer(request)
    if token is None:
        return _error(401, "unauthorized", "Send the account's API token: Authorization: Bearer …")
    wait = request.app[LIMIT].retry_after(token)
    if wait:
        response = _error(
            429, "rate_limited", f"Too many requests for this token; retry in {wait} s."
        )
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        async with deps.uows() as uow:
            account_id = await authenticate(uow, token)
    except DomainError as exc:
        return _domain_error(deps.explain, exc)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "body_too_large", f"The body exceeds {MAX_BODY} bytes.")
    try:
        return account_id, json.loads(body)
    except (ValueError, RecursionError):
        return _error(400, "invalid_json", "The body is not valid JSON.")


async def post_order(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    received = await _authorized_json(request)
    if isinstance(received, web.Response):
        return received
    account_id, data = received
    try:
        command = parse_order(data)
        async with deps.uows() as uow:
            result = await intake_order(uow, account_id, command)
    except DomainError as exc:
        return _domain_error(deps.explain, exc)
    if result.created:
        deps.wake()  # the core wrote its announcements to the outbox
    return web.json_response(order_json(result.order), status=201 if result.created else 200)


async def put_order_route(request: web.Request) -> web.Response:
    """Create or update the order with this external_id (the connectors' rules: an older
    `updated_at` changes nothing, the same content changes nothing, "cancelled" cancels)."""
    deps = request.app[DEPS]
    received = await _authorized_json(request)
    if isinstance(received, web.Response):
        return received
    account_id, data = received
    try:
        ext = parse_update(data, request.match_info["external_id"])
        async with deps.uows() as uow:
            result = await put_order(uow, account_id, ext)
    except DomainError as exc:
        return _domain_error(deps.explain, exc)
    deps.wake()  # announcements, notices to the assignee
    created = result.outcome == SyncOutcome.CREATED
    document = {**order_json(result.order), "outcome": result.outcome.value}
    return web.json_response(document, status=201 if created else 200)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def add_routes(web_app: web.Application) -> None:
    web_app[LIMIT] = PerTokenLimit(web_app[DEPS].intake_per_minute)
    web_app.router.add_post("/api/v1/orders", post_order)
    web_app.router.add_put("/api/v1/orders/{external_id}", put_order_route)
    web_app.router.add_get("/api/v1/openapi.json", openapi)
