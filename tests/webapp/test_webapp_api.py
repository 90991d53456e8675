"""The Mini App's API: Telegram's signature on every call, the chat's permission table, the
same answer for "missing" and "not yours", bad bodies refused with nothing written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.board.service import COUNT_CAP, Board, BoardColumn, Column, Scope
from core.members.permissions import Grant, Perm, grants
from core.orders.models import Order
from core.orders.service import assign_order
from core.tasks.models import Task
from tests.support import journal
from tests.support.orders import add_order
from tests.support.webapp import OTHER_TOKEN, sign_init_data
from web.app.api import board_json
from web.server import build_web_app

IDS = {"owner": 1000, "admin": 2000, "manager": 3001}


@pytest.fixture
async def orders(uows, shop):
    """FREE: unassigned; TEAM: the second manager's; OWN-<role>: each role's own order."""
    account = shop["owner"].account_id
    ids = {
        "FREE": await add_order(uows, account, "FREE", customer_phone="+7 (912) 555-01-02"),
        "TEAM": await add_order(uows, account, "TEAM"),
    }
    async with uows() as uow:
        await assign_order(uow, shop["owner"], ids["TEAM"], shop["m2"].member_id)
    for role in IDS:
        ids[f"OWN-{role}"] = await add_order(uows, account, f"OWN-{role}")
        async with uows() as uow:
            await assign_order(uow, shop["owner"], ids[f"OWN-{role}"], shop[role].member_id)
    return ids


async def _audit(uows, action: str, subject_id: int) -> list[AuditEntry]:
    async with uows() as uow:
        return list(
            await uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == action, AuditEntry.subject_id == subject_id)
                .order_by(AuditEntry.id)
            )
        )


# ---- authentication --------------------------------------------------------------------------


async def test_a_signed_member_gets_the_page_texts_in_their_language(api, shop, signed):
    response = await api.get("/app/api/me", headers=signed(IDS["manager"]))
    assert response.status == 200
    me = await response.json()
    assert me["member_id"] == shop["manager"].member_id
    assert me["locale"] == "ru"
    assert me["texts"]["claim"] == "Взять"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("case", ["missing", "tampered", "wrong_token", "expired", "dev_off"])
async def test_unsigned_tampered_foreign_or_old_init_data_is_refused(api, shop, clock, case):
    now = clock.now()
    good = sign_init_data(IDS["manager"], now)
    headers = {
        "missing": {},
        # Another user's id written into data signed for the manager.
        "tampered": {"Authorization": "tma " + good.replace("3001", "1000")},
        "wrong_token": {"Authorization": "tma " + sign_init_data(1000, now, token=OTHER_TOKEN)},
        "expired": {
            "Authorization": "tma " + sign_init_data(1000, now - timedelta(hours=24, seconds=1))
        },
        "dev_off": {"Authorization": "dev 1000"},
    }[case]
    for path in ("/app/api/me", "/app/api/board"):
        response = await api.get(path, headers=headers)
        assert response.status == 401, (case, path)
        body = await response.json()
        assert body["error"]["code"] in ("unauthorized", "expired")
        assert body["error"]["message"]


async def test_a_refused_claim_changes_nothing(api, uows, shop, orders, clock):
    forged = sign_init_data(IDS["manager"], clock.now(), token=OTHER_TOKEN)
    response = await api.post(
        f"/app/api/orders/{orders['FREE']}/claim", headers={"Authorization": "tma " + forged}
    )
    assert response.status == 401
    async with uows() as uow:
        assert (await uow.session.get(Order, orders["FREE"])).assignee_id is None


async def test_blocked_members_and_strangers_get_403_with_a_message(api, blocked, signed):
    blocked = await api.get("/app/api/board", headers=signed(3003))
    assert blocked.status == 403
    assert (await blocked.json())["error"]["code"] == "blocked"
    stranger = await api.get("/app/api/board", headers=signed(424242))
    assert stranger.status == 403
    body = await stranger.json()
    assert body["error"]["code"] == "not_member"
    assert "приглашение" in body["error"]["message"]


async def test_the_development_sign_in_works_only_when_enabled(app, shop):
    deps = replace(app.web, webapp=replace(app.web.webapp, dev_login=True))
    client = TestClient(TestServer(build_web_app(deps)))
    await client.start_server()
    try:
        response = await client.get("/app/api/me", headers={"Authorization": "dev 3001"})
        assert response.status == 200
        assert (await response.json())["member_id"] == shop["manager"].member_id
    finally:
        await client.close()


async def test_without_webapp_url_there_is_no_board(sqlite_url, clock):
    from core.settings import Settings
    from shopdesk.app import build_app
    from tests.support.bot_client import RecordingSession

    app = build_app(
        Settings(_env_file=None, database_url=sqlite_url, bot_token=None),
        session=RecordingSession(),
        clock=clock,
    )
    client = TestClient(TestServer(build_web_app(app.web)))
    await client.start_server()
    try:
        assert (await client.get("/app/api/me")).status == 404
        assert (await client.get("/app/")).status == 404
    finally:
        await client.close()
        await app.engine.dispose()


async def test_the_page_is_served_with_a_policy_that_keeps_requests_home(api, shop):
    page = await api.get("/app/")
    assert page.status == 200
    assert "telegram-web-app.js" in await page.text()
    policy = page.headers["Content-Security-Policy"]
    assert "connect-src 'self'" in policy
    assert "script-src 'self' https://telegram.org" in policy
    script = await api.get("/app/static/app.js")
    assert script.status == 200


# ---- the board -------------------------------------------------------------------------------


def _column(board: dict, key: str) -> dict:
    return next(c for c in board["columns"] if c["key"] == key)


def _numbers(board: dict, key: str) -> list[str]:
    return [row["number"] for row in _column(board, key)["rows"]]


async def test_a_manager_s_board_shows_summaries_in_columns(api, shop, orders, signed):
    response = await api.get("/app/api/board?scope=team", headers=signed(IDS["manager"]))
    assert response.status == 200
    board = await response.json()
    assert board["scopes"] == ["mine", "team"] and board["full_view"] is False
    assert board["managers"] == []  # the by-manager filter is for admins
    assert _numbers(board, "new") == ["FREE"]
    assert set(_numbers(board, "in_progress")) == {"TEAM", "OWN-owner", "OWN-admin", "OWN-manager"}
    assert _column(board, "in_progress")["count"] == 4
    row = _column(board, "new")["rows"][0]
    assert "customer_name" not in row and "customer_phone" not in row
    mine = await (await api.get("/app/api/board?scope=mine", headers=signed(3001))).json()
    assert _numbers(mine, "in_progress") == ["OWN-manager"]
    assert _numbers(mine, "new") == ["FREE"]  # still there to be claimed


async def test_admins_filter_by_manager(api, shop, orders, signed):
    board = await (
        await api.get(
            f"/app/api/board?scope=team&manager={shop['m2'].member_id}", headers=signed(2000)
        )
    ).json()
    assert board["full_view"] is True
    assert {m["name"] for m in board["managers"]} >= {"@petya", "@vasya"}
    assert _numbers(board, "in_progress") == ["TEAM"]
    refused = await api.get(
        f"/app/api/board?scope=team&manager={shop['m2'].member_id}", headers=signed(3001)
    )
    assert refused.status == 403


async def test_search_by_phone_digits_number_and_name(api, shop, orders, signed):
    async def found(query: str) -> list[str]:
        params = {"q": query, "scope": "team"}
        response = await api.get("/app/api/board", params=params, headers=signed(3001))
        board = await response.json()
        return sorted(n for c in board["columns"] for n in _numbers(board, c["key"]))

    assert await found("912 555") == ["FREE"]
    assert await found("5550102") == ["FREE"]
    assert await found("own-MANAGER") == ["OWN-manager"]  # the number, in any case
    assert "TEAM" in await found("Иван")
    assert await found("X-1") == []  # another account's order


async def test_unclaimed_too_long_is_marked(api, shop, orders, signed, clock):
    board = await (await api.get("/app/api/board", headers=signed(3001))).json()
    assert _column(board, "new")["rows"][0]["stale"] is False
    # The account's claim time (15 minutes) in working time: Sunday does not count, Monday
    # from 09:00 in Moscow does.
    clock.advance(timedelta(hours=3))
    board = await (await api.get("/app/api/board", headers=signed(3001))).json()
    assert _column(board, "new")["rows"][0]["stale"] is False
    clock.set(datetime(2026, 11, 23, 6, 15, tzinfo=UTC))
    board = await (await api.get("/app/api/board", headers=signed(3001))).json()
    assert _column(board, "new")["rows"][0]["stale"] is True


async def test_the_board_answers_304_until_something_changes(api, shop, orders, signed):
    first = await api.get("/app/api/board", headers=signed(3002))
    tag = first.headers["ETag"]
    again = await api.get("/app/api/board", headers={**signed(3002), "If-None-Match": tag})
    assert again.status == 304
    claimed = await api.post(f"/app/api/orders/{orders['FREE']}/claim", headers=signed(3001))
    assert claimed.status == 200
    changed = await api.get("/app/api/board", headers={**signed(3002), "If-None-Match": tag})
    assert changed.status == 200
    assert _numbers(await changed.json(), "new") == []


# ---- actions ---------------------------------------------------------------------------------


async def test_a_double_tap_claims_once_and_the_audit_names_the_member(
    api, uows, shop, orders, signed
):
    url = f"/app/api/orders/{orders['FREE']}/claim"
    first = await (await api.post(url, headers=signed(3001))).json()
    second = await (await api.post(url, headers=signed(3001))).json()
    assert first["won"] is True and second == {**second, "won": False, "mine": True}
    assert first["view"]["order"]["status"] == "in_progress"
    assert first["view"]["details"]["customer_phone"] == "+7 (912) 555-01-02"
    other = await (await api.post(url, headers=signed(3002))).json()
    assert other["won"] is False and other["holder"] == "@petya"
    entries = await _audit(uows, "order.claimed", orders["FREE"])
    assert [e.actor_id for e in entries] == [shop["manager"].member_id]


async def test_cancelling_asks_for_a_reason_kept_on_the_order(api, uows, shop, orders, signed):
    url = f"/app/api/orders/{orders['OWN-manager']}/status"
    bare = await api.post(url, json={"status": "cancelled"}, headers=signed(3001))
    assert bare.status == 422 and (await bare.json())["error"]["code"] == "cancel_reason_required"
    async with uows() as uow:
        assert (await uow.session.get(Order, orders["OWN-manager"])).status != "cancelled"
    done = await api.post(
        url, json={"status": "cancelled", "reason": "out_of_stock"}, headers=signed(3001)
    )
    assert done.status == 200
    assert (await done.json())["view"]["order"]["status"] == "cancelled"
    async with uows() as uow:
        assert (await uow.session.get(Order, orders["OWN-manager"])).cancel_reason == "out_of_stock"


async def test_status_change_by_the_assignee_is_audited(api, uows, shop, orders, signed):
    url = f"/app/api/orders/{orders['OWN-manager']}/status"
    started = await api.post(url, json={"status": "in_progress"}, headers=signed(3001))
    assert started.status == 200
    response = await api.post(url, json={"status": "completed"}, headers=signed(3001))
    assert response.status == 200
    assert (await response.json())["view"]["order"]["status"] == "completed"
    entries = await _audit(uows, "order.status_changed", orders["OWN-manager"])
    assert [e.actor_id for e in entries] == [shop["manager"].member_id] * 2
    assert entries[-1].after["status"] == "completed"
    done = await (await api.get("/app/api/board?scope=mine", headers=signed(3001))).json()
    assert _numbers(done, "done_today") == ["OWN-manager"]
    bad = await api.post(url, json={"status": "in_progress"}, headers=signed(3001))
    assert bad.status == 403  # only admins reopen


async def test_tasks_added_completed_and_postponed(api, uows, shop, orders, signed):
    url = f"/app/api/orders/{orders['OWN-manager']}/tasks"
    added = await api.post(
        url, json={"text": "Позвонить", "due": "завтра 10:00"}, headers=signed(3001)
    )
    assert added.status == 201
    [task] = (await added.json())["view"]["tasks"]
    assert task["text"] == "Позвонить" and task["due_at"] is not None
    assert set(task["actions"]) >= {"done", "postpone"}
    later = await api.post(
        f"/app/api/tasks/{task['id']}/postpone", json={"step": "day"}, headers=signed(3001)
    )
    assert later.status == 200
    [moved] = (await later.json())["view"]["tasks"]
    assert moved["due_at"] > task["due_at"]
    done = await api.post(f"/app/api/tasks/{task['id']}/done", headers=signed(3001))
    assert done.status == 200
    async with uows() as uow:
        assert (await uow.session.get(Task, task["id"])).status == "done"
    # A colleague may not close it.
    again = await api.post(f"/app/api/tasks/{task['id']}/done", headers=signed(3002))
    assert again.status in (403, 422)


async def test_an_admin_assigns_from_the_picker(api, uows, shop, orders, signed):
    picker = await (
        await api.get(f"/app/api/orders/{orders['FREE']}/assignees", headers=signed(2000))
    ).json()
    target = next(m for m in picker["members"] if m["name"] == "@vasya")
    response = await api.post(
        f"/app/api/orders/{orders['FREE']}/assign",
        json={"member_id": target["id"]},
        headers=signed(2000),
    )
    assert response.status == 200
    assert (await response.json())["view"]["order"]["assignee"] == "@vasya"
    [entry] = await _audit(uows, "order.assigned", orders["FREE"])
    assert entry.actor_id == shop["admin"].member_id


# ---- forged ids and bad bodies ---------------------------------------------------------------


async def test_another_account_s_order_answers_as_a_missing_one(api, orders, foreign_order, signed):
    for method, path in (
        ("GET", f"/app/api/orders/{foreign_order}"),
        ("POST", f"/app/api/orders/{foreign_order}/claim"),
        ("POST", f"/app/api/orders/{foreign_order}/status"),
        ("GET", f"/app/api/orders/{foreign_order}/assignees"),
    ):
        theirs = await api.request(method, path, json={"status": "completed"}, headers=signed(2000))
        missing_path = path.replace(str(foreign_order), "987654321")
        missing = await api.request(
            method, missing_path, json={"status": "completed"}, headers=signed(2000)
        )
        assert theirs.status == missing.status == 404, path
        assert await theirs.json() == await missing.json()


async def test_a_colleague_s_order_is_seen_in_brief_and_not_touched(
    api, uows, shop, orders, signed
):
    card = await (await api.get(f"/app/api/orders/{orders['TEAM']}", headers=signed(3001))).json()
    assert card["limited"] == "colleague" and card["details"] is None
    assert card["actions"] == [] and card["log"] is None
    status = await api.post(
        f"/app/api/orders/{orders['TEAM']}/status",
        json={"status": "completed"},
        headers=signed(3001),
    )
    assert status.status == 403
    assign = await api.post(
        f"/app/api/orders/{orders['TEAM']}/assign", json={"member_id": None}, headers=signed(3001)
    )
    assert assign.status == 403
    async with uows() as uow:
        order = await uow.session.get(Order, orders["TEAM"])
        assert (order.status, order.assignee_id) == ("new", shop["m2"].member_id)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'{"status": "' + b"x" * 20_000 + b'"}', 413),
        (b'{"status": "shipped"}', 422),
        (b'{"status": 5}', 422),
    ],
)
async def test_malformed_and_oversized_bodies_are_refused(
    api, uows, shop, orders, signed, body, status
):
    response = await api.post(
        f"/app/api/orders/{orders['OWN-manager']}/status",
        data=body,
        headers={**signed(3001), "Content-Type": "application/json"},
    )
    assert response.status == status
    assert (await response.json())["error"]["message"]
    async with uows() as uow:
        assert (await uow.session.get(Order, orders["OWN-manager"])).status == "new"


async def test_ids_that_are_not_numbers_are_404(api, shop, signed):
    for path in ("/app/api/orders/abc", "/app/api/orders/-1", "/app/api/orders/" + "9" * 40):
        assert (await api.get(path, headers=signed(3001))).status == 404


# ---- the chat's permission table, through the API --------------------------------------------


async def _probe(api, uows, shop, orders, signed, perm: Perm, role: str) -> bool | str:
    who = signed(IDS[role])
    own = orders[f"OWN-{role}"]

    async def card(order_id: int) -> dict | None:
        response = await api.get(f"/app/api/orders/{order_id}", headers=who)
        return await response.json() if response.status == 200 else None

    if perm == Perm.ORDERS_VIEW_OWN:
        return (await card(own) or {}).get("details") is not None
    if perm == Perm.ORDERS_VIEW_TEAM:
        return await card(orders["TEAM"]) is not None
    if perm == Perm.ORDERS_VIEW_ALL:
        return (await card(orders["TEAM"]) or {}).get("details") is not None
    if perm == Perm.ORDERS_CLAIM:
        response = await api.post(f"/app/api/orders/{orders['FREE']}/claim", headers=who)
        return response.status == 200 and (await response.json())["won"]
    if perm == Perm.ORDERS_ASSIGN:
        response = await api.post(
            f"/app/api/orders/{orders['TEAM']}/assign", json={"member_id": None}, headers=who
        )
        return response.status == 200
    if perm == Perm.TASKS_MANAGE:
        response = await api.post(
            f"/app/api/orders/{own}/tasks", json={"text": "Перезвонить"}, headers=who
        )
        return response.status == 201
    if perm == Perm.SERVICES_VIEW:
        return (await api.get("/app/api/services", headers=who)).status == 200
    if perm == Perm.SERVICES_MANAGE:
        await journal.fund(uows, shop["owner"], 10_000_00)
        outcome = await journal.order(uows, shop["owner"], "chat_widget")
        response = await api.post(
            f"/app/api/services/{outcome.service.id}/auto-renew", json={"on": False}, headers=who
        )
        return response.status == 200
    if perm == Perm.AUDIT_VIEW:
        own_log = (await card(own) or {}).get("log") is not None
        team_log = (await card(orders["TEAM"]) or {}).get("log") is not None
        return True if team_log else "own orders only" if own_log else False
    return None  # not a board action: orders.create, reports, users, billing live in the chat


# In this order: the looks first, the changes (claiming FREE, unassigning TEAM) last.
BOARD_PERMS = (
    Perm.ORDERS_VIEW_OWN,
    Perm.ORDERS_VIEW_TEAM,
    Perm.ORDERS_VIEW_ALL,
    Perm.AUDIT_VIEW,
    Perm.TASKS_MANAGE,
    Perm.SERVICES_VIEW,
    Perm.SERVICES_MANAGE,
    Perm.ORDERS_CLAIM,
    Perm.ORDERS_ASSIGN,
)
OUTCOME = {Grant.ALLOWED: True, Grant.REFUSED: False, Grant.OWN_ONLY: "own orders only"}


@pytest.mark.parametrize("role", list(IDS))
async def test_every_board_action_follows_the_permission_table(
    api, uows, shop, orders, signed, role
):
    table = grants()
    found = {
        perm: await _probe(api, uows, shop, orders, signed, perm, role) for perm in BOARD_PERMS
    }
    assert found == {perm: OUTCOME[table[(perm, role)]] for perm in BOARD_PERMS}


# ---- owners' views: services with the runway, returning, the sales report ---------------------


async def test_services_carry_the_runway_and_a_disconnected_one_returns_once(
    api, uows, shop, signed
):
    from core.journal import service as journal_service

    owner = shop["owner"]
    await journal.fund(uows, owner, 2_000_00)
    ordered = await journal.order(uows, owner, "chat_widget")
    service_id = ordered.service.id
    await journal.set_up(uows, owner, service_id)
    listed = await (await api.get("/app/api/services", headers=signed(1000))).json()
    assert listed["renews"] is True and listed["can_manage"] is True
    assert listed["short_on"] is not None and listed["shortfall"] > 0  # 12 months not covered
    [row] = listed["rows"]
    assert row["color"] == "green" and row["auto_renew"] is True
    refused = await api.post(
        f"/app/api/services/{service_id}/return",
        json={"version": row["version"]},
        headers=signed(1000),
    )
    assert refused.status == 422  # active: nothing to return
    async with uows() as uow:
        await journal_service.disconnect_service(uow, owner, service_id)
    row = (await (await api.get("/app/api/services", headers=signed(1000))).json())["rows"][0]
    assert row["status"] == "disconnected" and row["return_days_left"] == 14
    url = f"/app/api/services/{service_id}/return"
    preview = await api.get(url, headers=signed(1000))  # what the confirmation shows
    assert preview.status == 200
    seen = await preview.json()
    assert (seen["price"], seen["after"]) == (790_00, seen["balance"] - 790_00)
    assert seen["auto_renew"] is True and seen["period_ends"] is not None
    assert seen["covered_before"] is None and seen["covered_after"] is not None
    assert seen["not_covered"] == []
    assert (await api.get(url, headers=signed(3001))).status == 403
    first = await api.post(url, json={"version": row["version"]}, headers=signed(1000))
    again = await api.post(url, json={"version": row["version"]}, headers=signed(1000))
    assert first.status == again.status == 200
    assert (await first.json())["balance"] == (await again.json())["balance"]
    assert len(await _audit(uows, "service.returned", service_id)) == 1
    manager = await api.post(url, json={"version": row["version"]}, headers=signed(3001))
    assert manager.status == 403


async def test_the_sales_report_follows_the_report_permissions(api, uows, shop, orders, signed):
    for who, role in ((3001, "manager"), (1000, "owner")):
        url = f"/app/api/orders/{orders['OWN-' + role]}/status"
        await api.post(url, json={"status": "in_progress"}, headers=signed(who))
        await api.post(url, json={"status": "completed"}, headers=signed(who))
    team = await (await api.get("/app/api/report?period=today", headers=signed(1000))).json()
    assert team["scope"] == "team"
    assert team["totals"]["completed"] == 2 and team["totals"]["revenue"] == 600_000
    names = {row["name"] for row in team["rows"] if row["completed"]}
    assert names == {"@petya", "Owner"}
    own = await (await api.get("/app/api/report?period=7d", headers=signed(3001))).json()
    assert own["scope"] == "own"
    assert [row["name"] for row in own["rows"]] == ["@petya"]
    assert own["totals"]["completed"] == 1
    bad = await api.get("/app/api/report?period=custom", headers=signed(1000))
    assert bad.status in (400, 422)
    worse = await api.get("/app/api/report?period=forever", headers=signed(1000))
    assert worse.status == 400


async def test_an_order_hidden_by_the_role_answers_as_a_missing_one(
    api, uows, shop, orders, signed
):
    from core.members.roles import create_role
    from tests.support.factories import join

    async with uows() as uow:
        await create_role(uow, shop["owner"], "solo", "manager", ["-orders.view_team"])
    await join(uows, shop["owner"], 3005, "solo", username="solo")
    hidden = await api.get(f"/app/api/orders/{orders['TEAM']}", headers=signed(3005))
    missing = await api.get("/app/api/orders/987654321", headers=signed(3005))
    assert hidden.status == missing.status == 404
    assert await hidden.json() == await missing.json()


async def test_the_card_carries_the_customers_history_where_the_customer_is_shown(
    api, orders, signed
):
    """Every order of the fixture is one customer's (the same phone, else the same email)."""
    own = await (
        await api.get(f"/app/api/orders/{orders['OWN-manager']}", headers=signed(3001))
    ).json()
    history = own["customer"]
    assert history["orders"] == len(orders)
    assert history["usual_manager"] == "@petya"  # one order each: the latest one's
    assert history["first_on"] == history["last_on"] == "2026-11-22"  # the account's day
    team = await (await api.get(f"/app/api/orders/{orders['TEAM']}", headers=signed(3001))).json()
    assert team["customer"] is None  # a colleague's: no customer, no history
    me = await (await api.get("/app/api/me", headers=signed(3001))).json()
    assert (me["texts"]["orders_one"], me["texts"]["orders_few"]) == ("{n} заказ", "{n} заказа")
    assert me["texts"]["orders_many"] == "{n} заказов"


def test_a_column_past_the_count_cap_reads_as_more(shop):
    columns = tuple(
        BoardColumn(column, count, [])
        for column, count in zip(Column, (0, COUNT_CAP + 1, COUNT_CAP), strict=True)
    )
    found = Board(Scope.TEAM, (Scope.TEAM,), columns, False, (), None, None)
    shown = [(c["count"], c["more"]) for c in board_json(shop["manager"], found)["columns"]]
    assert shown == [(0, False), (COUNT_CAP, True), (COUNT_CAP, False)]
