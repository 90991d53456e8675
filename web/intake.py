"""The HTTP intake API: POST /api/v1/orders (bearer token per account) and its OpenAPI document."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Collection
from contextlib import AsyncExitStack
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from aiohttp import web

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.errors import Conflict, DomainError, InvalidInput, TooManyRequests
from core.intake.payload import parse_order, parse_update
from core.intake.tokens import Unauthorized, token_account
from core.limits import LimitsUnavailable, per_minute
from core.logs import bind
from core.notifications import outbox
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


def _trusted(address: str, proxies: Collection[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: web.Request, proxies: Collection[IPv4Network | IPv6Network]) -> str:
    """The client's address: the peer's, or — when the peer is a trusted reverse proxy — the
    last address in X-Forwarded-For that is not a trusted proxy itself (what the client wrote
    in that header itself comes before it and is never believed)."""
    peer = request.remote or "unknown"
    if not _trusted(peer, proxies):
        return peer
    forwarded = request.headers.get("X-Forwarded-For", "")
    for address in reversed([part.strip() for part in forwarded.split(",")]):
        if address and not _trusted(address, proxies):
            return address
    return peer


def _too_many(explain, code: str, wait: float, **params: object) -> web.Response:
    seconds = max(1, math.ceil(wait))
    response = _error(429, code, explain(TooManyRequests(code, seconds=seconds, **params)))
    response.headers["Retry-After"] = str(seconds)
    return response


async def _authorized_json(
    request: web.Request, stack: AsyncExitStack
) -> tuple[UnitOfWork, Account, Any] | web.Response:
    """(a unit of work, the account, the parsed body), or the error response. Limits first,
    each before what it protects: an address that sent too many requests without a valid token
    gets 429 before any database query; a valid token (its account) gets at most `per_minute`
    requests, counted after authentication. Then the size and the JSON. The token is checked in
    the unit of work (entered on `stack`) that the request then writes in: one transaction."""
    deps = request.app[DEPS]
    limits = deps.intake_limits
    address = client_address(request, limits.trusted_proxies)
    failures = per_minute(limits.failures_per_minute)
    try:
        wait = await limits.limiter.retry_after(failures, "intake", "failed", address)
        if wait:
            return _too_many(deps.explain, "too_many_failures", wait)
        token = _bearer(request)
        if token is None:
            await limits.limiter.hit(failures, "intake", "failed", address)
            return _error(
                401, "unauthorized", "Send the account's API token: Authorization: Bearer …"
            )
        uow = await stack.enter_async_context(deps.uows())
        try:
            account = await token_account(uow, token)
        except Unauthorized as exc:
            await limits.limiter.hit(failures, "intake", "failed", address)
            return _domain_error(deps.explain, exc)
        wait = await limits.limiter.hit(
            per_minute(limits.per_minute), "intake", "account", str(account.id)
        )
        if wait:
            return _too_many(deps.explain, "rate_limited", wait, limit=limits.per_minute)
    except LimitsUnavailable:
        log.warning("intake: rate limits unreachable, answering 503")
        response = _error(503, "unavailable", "Try again shortly.")
        response.headers["Retry-After"] = "5"
        return response
    except DomainError as exc:
        return _domain_error(deps.explain, exc)
    bind(account_id=account.id)  # the request's log lines name the account
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "body_too_large", f"The body exceeds {MAX_BODY} bytes.")
    try:
        return uow, account, json.loads(body)
    except (ValueError, RecursionError):
        return _error(400, "invalid_json", "The body is not valid JSON.")


async def post_order(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    async with AsyncExitStack() as stack:
        received = await _authorized_json(request, stack)
        if isinstance(received, web.Response):
            return received
        uow, account, data = received  # held: the service finds it in the session, not by a query
        try:
            result = await intake_order(uow, account.id, parse_order(data))
        except DomainError as exc:
            return _domain_error(deps.explain, exc)
        wrote = outbox.wrote_messages(uow)
    if wrote:
        deps.wake()  # the core wrote its announcements to the outbox: send them now
    return web.json_response(order_json(result.order), status=201 if result.created else 200)


async def put_order_route(request: web.Request) -> web.Response:
    """Create or update the order with this external_id (the connectors' rules: an older
    `updated_at` changes nothing, the same content changes nothing, "cancelled" cancels)."""
    deps = request.app[DEPS]
    async with AsyncExitStack() as stack:
        received = await _authorized_json(request, stack)
        if isinstance(received, web.Response):
            return received
        uow, account, data = received
        try:
            ext = parse_update(data, request.match_info["external_id"])
            result = await put_order(uow, account.id, ext)
        except DomainError as exc:
            return _domain_error(deps.explain, exc)
        wrote = outbox.wrote_messages(uow)
    if wrote:
        deps.wake()  # announcements, notices to the assignee
    created = result.outcome == SyncOutcome.CREATED
    document = {**order_json(result.order), "outcome": result.outcome.value}
    return web.json_response(document, status=201 if created else 200)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def add_routes(web_app: web.Application) -> None:
    web_app.router.add_post("/api/v1/orders", post_order)
    web_app.router.add_put("/api/v1/orders/{external_id}", put_order_route)
    web_app.router.add_get("/api/v1/openapi.json", openapi)
