"""The Mini App's JSON API under /app/api/: every call signed by Telegram, every rule in core.

Each handler authenticates (`Authorization: tma <initData>`), resolves the member fresh, and
calls one core service; domain errors become 4xx answers in the member's language.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from core.board.service import (
    COUNT_CAP,
    Board,
    OrderView,
    Scope,
    board,
    order_view,
    period_report,
    services_view,
)
from core.customers.views import CustomerHistory
from core.db.uow import UnitOfWork
from core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from core.journal.catalog import default_catalog
from core.journal.service import return_quote, return_service, set_auto_renew
from core.members.access import look_up_access
from core.members.actor import Actor
from core.members.permissions import Perm
from core.orders.service import assign_order, assignable_members, change_status, claim_order
from core.orders.views import OrderSummary
from core.reports.periods import PeriodKind
from core.tasks.service import Postpone, add_task, close_task, postpone_task, read_due
from core.tasks.views import TaskRow
from web.app.deps import WebAppDeps
from web.deps import DEPS

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
WEBAPP: web.AppKey[WebAppDeps] = web.AppKey("shopdesk_webapp_deps")
# Hidden orders answer exactly as missing ones: an id reveals nothing about another's order.
_HIDDEN = {"order_hidden"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str) -> web.Response:
    headers = {"WWW-Authenticate": "tma"} if status == 401 else None
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


# ---- authentication ----------------------------------------------------------------------------


def _login_id(request: web.Request, deps: WebAppDeps, locale: str) -> int:
    """The Telegram user id the request is signed for, or ApiError(401)."""
    texts = deps.texts(locale)
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "dev" and deps.dev_login and value.isdigit():
        return int(value)
    if scheme != "tma" or not value:
        raise ApiError(401, "unauthorized", texts["auth_missing"])
    try:
        login = deps.check_init_data(value)
    except ValueError:
        raise ApiError(401, "unauthorized", texts["auth_invalid"]) from None
    now = request.app[DEPS].uows.clock.now()
    if now - login.auth_date > deps.max_age:
        raise ApiError(401, "expired", texts["auth_expired"])
    return login.telegram_id


async def _actor(request: web.Request, uow: UnitOfWork) -> Actor:
    deps = request.app[WEBAPP]
    telegram_id = _login_id(request, deps, deps.default_locale)
    access = await look_up_access(uow, telegram_id)
    if access.actor is None:
        texts = deps.texts(access.locale or deps.default_locale)
        if access.blocked:
            raise ApiError(403, "blocked", texts["blocked"])
        raise ApiError(403, "not_member", texts["not_member"])
    return access.actor


def _explain(request: web.Request, error: DomainError, locale: str) -> web.Response:
    explain = request.app[WEBAPP].explain
    if error.code in _HIDDEN:
        error = NotFound("order_gone")
    if isinstance(error, NotFound):
        return _error(404, error.code, explain(error, locale))
    if isinstance(error, PermissionDenied):
        return _error(403, error.code, explain(error, locale))
    if isinstance(error, InvalidInput):
        return _error(422, error.code, explain(error, locale))
    return _error(409, error.code, explain(error, locale))


Handler = Callable[[web.Request, UnitOfWork, Actor], Awaitable[web.StreamResponse]]


def api(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """One unit of work per call: authenticate, resolve the member, run the handler."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        actor = None
        try:
            async with request.app[DEPS].uows() as uow:
                actor = await _actor(request, uow)
                response = await handler(request, uow, actor)
        except ApiError as exc:
            return _error(exc.status, exc.code, exc.message)
        except DomainError as exc:
            locale = actor.locale if actor else request.app[WEBAPP].default_locale
            return _explain(request, exc, locale)
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapped


async def _body(request: web.Request, actor: Actor) -> dict[str, Any]:
    texts = request.app[WEBAPP].texts(actor.locale)
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "body_too_large", texts["bad_body"])
    try:
        raw = await request.content.read(MAX_BODY + 1)
    except ValueError:
        raise ApiError(400, "invalid_json", texts["bad_body"]) from None
    if len(raw) > MAX_BODY:
        raise ApiError(413, "body_too_large", texts["bad_body"])
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", texts["bad_body"]) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", texts["bad_body"])
    return data


_GONE = {"order_id": "order_gone", "task_id": "task_gone", "service_id": "service_not_found"}


def _id(request: web.Request, name: str = "order_id") -> int:
    value = request.match_info[name]
    if not value.isdigit() or len(value) > 18:
        raise NotFound(_GONE[name])
    return int(value)


def _bad(request: web.Request, actor: Actor) -> ApiError:
    return ApiError(400, "bad_request", request.app[WEBAPP].texts(actor.locale)["bad_body"])


# ---- JSON shapes -------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def summary_json(actor: Actor, order: OrderSummary) -> dict[str, Any]:
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status.value,
        "total": order.total,
        "currency": order.currency,
        "assignee_id": order.assignee_id,
        "assignee": order.assignee,
        "mine": order.assignee_id == actor.member_id,
        "created_at": _iso(order.created_at),
    }


def board_json(actor: Actor, found: Board) -> dict[str, Any]:
    return {
        "scope": found.scope.value,
        "scopes": [s.value for s in found.scopes],
        "full_view": found.full_view,
        "managers": [{"id": m.member_id, "name": m.name} for m in found.managers],
        "manager_id": found.manager_id,
        "query": found.query,
        "columns": [
            {
                "key": column.column.value,
                "count": min(column.count, COUNT_CAP),
                "more": column.count > COUNT_CAP,
                "rows": [
                    {**summary_json(actor, row.order), "stale": row.stale} for row in column.rows
                ],
            }
            for column in found.columns
        ],
    }


def task_json(task: TaskRow) -> dict[str, Any]:
    return {
        "id": task.id,
        "text": task.text,
        "status": task.status.value,
        "due_at": _iso(task.due_at),
        "overdue": task.overdue,
        "assignee": task.assignee,
        "actions": [a.value for a in task.actions],
    }


def customer_json(actor: Actor, history: CustomerHistory | None) -> dict[str, Any] | None:
    """The customer's history (shown with the details only); days in the account's zone."""
    if history is None:
        return None
    zone = ZoneInfo(actor.timezone)
    return {
        "id": history.customer_id,
        "orders": history.orders,
        "spent": history.spent,
        "currency": history.currency,
        "first_on": history.first_at.astimezone(zone).date().isoformat(),
        "last_on": history.last_at.astimezone(zone).date().isoformat(),
        "usual_manager": history.usual_manager,
    }


def view_json(actor: Actor, view: OrderView) -> dict[str, Any]:
    card = view.card
    details = None
    if card.details is not None:
        d = card.details
        details = {
            "customer_name": d.customer_name,
            "customer_phone": d.customer_phone,
            "customer_email": d.customer_email,
            "customer_address": d.customer_address,
            "items": [{"title": i.title, "qty": i.qty, "price": i.price} for i in d.items],
            "comment": d.comment,
            "source": d.source,
            "updated_at": _iso(d.updated_at),
        }
    log_rows = None
    if view.log is not None:
        log_rows = [
            {
                "action": r.action,
                "actor": r.actor_name,
                "before": r.before,
                "after": r.after,
                "created_at": _iso(r.created_at),
            }
            for r in view.log.rows
        ]
    return {
        "order": summary_json(actor, card.summary),
        "limited": card.limited.value if card.limited else None,
        "details": details,
        "customer": customer_json(actor, card.customer),
        "actions": [a.value for a in card.actions],
        "next_statuses": [s.value for s in card.next_statuses],
        "tasks": [task_json(t) for t in view.tasks] if view.tasks is not None else None,
        "can_add_task": actor.can(Perm.TASKS_MANAGE) and not actor.read_only,
        "log": log_rows,
    }


def _etagged(request: web.Request, payload: dict[str, Any]) -> web.Response:
    # Built in a fixed order, so the same content always gives the same bytes and tag.
    body = json.dumps(payload, ensure_ascii=False).encode()
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if tag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers={"ETag": tag})
    return web.Response(body=body, content_type="application/json", headers={"ETag": tag})


# ---- handlers ----------------------------------------------------------------------------------


@api
async def get_me(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    deps = request.app[WEBAPP]
    return web.json_response(
        {
            "member_id": actor.member_id,
            "role": actor.role_code,
            "locale": actor.locale,
            "timezone": actor.timezone,
            "read_only": actor.read_only,
            "services": actor.can(Perm.SERVICES_VIEW),
            "reports": actor.can(Perm.REPORTS_OWN) or actor.can(Perm.REPORTS_TEAM),
            "poll_seconds": deps.poll_seconds,
            "texts": dict(deps.texts(actor.locale)),
        }
    )


@api
async def get_board(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    q = request.query
    try:
        scope = Scope(q["scope"]) if q.get("scope") else None
        manager = int(q["manager"]) if q.get("manager") else None
    except ValueError:
        raise _bad(request, actor) from None
    found = await board(uow, actor, scope, manager_id=manager, query=q.get("q", "")[:100])
    return _etagged(request, board_json(actor, found))


@api
async def get_order(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    return _etagged(request, view_json(actor, await order_view(uow, actor, _id(request))))


async def _view(uow: UnitOfWork, actor: Actor, order_id: int) -> dict[str, Any]:
    """The card after a change (or a refused double tap), read afresh: whatever the action left
    open is ended first (on SQLite an open transaction would hold the write lock)."""
    await uow.rollback()
    uow.session.expire_all()
    return view_json(actor, await order_view(uow, actor, order_id))


def _changed(request: web.Request) -> None:
    request.app[DEPS].wake()  # the core wrote notices to the outbox: send them now


@api
async def post_claim(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    outcome = await claim_order(uow, actor, _id(request))
    if outcome.won:
        _changed(request)
    view = await _view(uow, actor, outcome.order.id)
    return web.json_response(
        {"won": outcome.won, "mine": outcome.mine, "holder": outcome.holder, "view": view}
    )


@api
async def post_status(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    body = await _body(request, actor)
    order_id = _id(request)
    reason = body.get("reason")
    await change_status(
        uow,
        actor,
        order_id,
        str(body.get("status", ""))[:20],
        str(reason)[:200] if isinstance(reason, str) and reason.strip() else None,
    )
    _changed(request)
    return web.json_response({"view": await _view(uow, actor, order_id)})


@api
async def get_assignees(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    _summary, members = await assignable_members(uow, actor, _id(request))
    return web.json_response({"members": [{"id": m.member_id, "name": m.name} for m in members]})


@api
async def post_assign(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    body = await _body(request, actor)
    order_id = _id(request)
    member = body.get("member_id")
    if member is not None and (not isinstance(member, int) or isinstance(member, bool)):
        raise NotFound("member_not_found", ref=str(member)[:20])
    await assign_order(uow, actor, order_id, member)
    _changed(request)
    return web.json_response({"view": await _view(uow, actor, order_id)})


@api
async def post_task(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    body = await _body(request, actor)
    order_id = _id(request)
    due_text = body.get("due")
    due = None
    if isinstance(due_text, str) and due_text.strip():
        due = await read_due(uow, actor, due_text[:100])
    await add_task(uow, actor, order_id, str(body.get("text") or "")[:2000], due)
    return web.json_response({"view": await _view(uow, actor, order_id)}, status=201)


@api
async def post_task_done(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    row = await close_task(uow, actor, _id(request, "task_id"))
    return web.json_response({"view": await _view(uow, actor, row.order_id)})


@api
async def post_task_postpone(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    body = await _body(request, actor)
    try:
        step = Postpone(str(body.get("step", "")))
    except ValueError:
        raise _bad(request, actor) from None
    row = await postpone_task(uow, actor, _id(request, "task_id"), step)
    return web.json_response({"view": await _view(uow, actor, row.order_id)})


@api
async def get_services(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    found = await services_view(uow, actor)
    rows = []
    for row in found.journal.rows:
        s = row.service
        rows.append(
            {
                "id": s.id,
                "version": s.version,
                "name": row.item.name(actor.locale) if row.item else s.catalog_code,
                "status": s.status,
                "color": row.color.value,
                "ends_on": s.ends_on.isoformat() if s.ends_on else None,
                "end_marked": row.end_marked,
                "auto_renew": s.auto_renew,
                "return_days_left": row.return_days_left,
                "price": s.price,
            }
        )
    overview = found.balance
    run = overview.runway
    return _etagged(
        request,
        {
            "rows": rows,
            "balance": found.journal.balance,
            "can_manage": found.journal.can_order,
            "today": overview.today.isoformat(),
            "renews": overview.anything_renews,
            "short_on": run.short_on.isoformat() if run.short_on else None,
            "shortfall": run.shortfall,
            "due_soon": overview.total,
        },
    )


def _day(value) -> str | None:
    return value.isoformat() if value is not None else None


@api
async def get_return(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    """What returning the service would do, for the confirmation (the bot's figures)."""
    card = await return_quote(uow, actor, _id(request, "service_id"))
    impact = card.impact
    catalog = default_catalog()

    def name(code: str) -> str:
        item = catalog.get(code)
        return item.name(actor.locale) if item is not None else code

    return web.json_response(
        {
            "price": card.row.service.price,
            "balance": impact.balance,
            "after": impact.after,
            "period_ends": _day(impact.period_ends),
            "auto_renew": impact.auto_renew,
            "covered_before": _day(impact.covered_before),
            "covered_after": _day(impact.covered_after),
            "not_covered": [
                {"on": r.on.isoformat(), "name": name(r.catalog_code), "price": r.price}
                for r in impact.newly_short
            ],
        }
    )


@api
async def post_return(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    body = await _body(request, actor)
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad(request, actor)
    outcome = await return_service(uow, actor, _id(request, "service_id"), version)
    if not outcome.replayed:
        _changed(request)
    return web.json_response(
        {"id": outcome.service.id, "status": outcome.service.status, "balance": outcome.balance}
    )


@api
async def get_report(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    try:
        kind = PeriodKind(request.query.get("period", PeriodKind.WEEK.value))
    except ValueError:
        raise _bad(request, actor) from None
    report = await period_report(uow, actor, kind)

    def figures(f) -> dict[str, int]:
        return {
            "completed": f.completed,
            "revenue": f.revenue,
            "open": f.open,
            "average": f.average,
        }

    return _etagged(
        request,
        {
            "period": kind.value,
            "first": report.period.first.isoformat(),
            "last": report.period.last.isoformat(),
            "currency": report.currency,
            "scope": report.scope.value,
            "rows": [
                {"member_id": r.member_id, "name": r.name, "share": r.share, **figures(r.figures)}
                for r in report.rows
            ],
            "totals": figures(report.totals),
            "other_currency": report.other_currency,
        },
    )


@api
async def post_auto_renew(request: web.Request, uow: UnitOfWork, actor: Actor) -> web.Response:
    body = await _body(request, actor)
    on = body.get("on")
    if not isinstance(on, bool):
        raise _bad(request, actor)
    service = await set_auto_renew(uow, actor, _id(request, "service_id"), on)
    _changed(request)
    return web.json_response({"id": service.id, "auto_renew": service.auto_renew})


def add_routes(web_app: web.Application) -> None:
    r = web_app.router
    r.add_get("/app/api/me", get_me)
    r.add_get("/app/api/board", get_board)
    r.add_get("/app/api/orders/{order_id}", get_order)
    r.add_post("/app/api/orders/{order_id}/claim", post_claim)
    r.add_post("/app/api/orders/{order_id}/status", post_status)
    r.add_get("/app/api/orders/{order_id}/assignees", get_assignees)
    r.add_post("/app/api/orders/{order_id}/assign", post_assign)
    r.add_post("/app/api/orders/{order_id}/tasks", post_task)
    r.add_post("/app/api/tasks/{task_id}/done", post_task_done)
    r.add_post("/app/api/tasks/{task_id}/postpone", post_task_postpone)
    r.add_get("/app/api/services", get_services)
    r.add_post("/app/api/services/{service_id}/auto-renew", post_auto_renew)
    r.add_get("/app/api/services/{service_id}/return", get_return)
    r.add_post("/app/api/services/{service_id}/return", post_return)
    r.add_get("/app/api/report", get_report)
