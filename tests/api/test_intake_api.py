"""POST /api/v1/orders, /healthz and the OpenAPI document through a real aiohttp server."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.intake.models import ApiToken
from core.intake.tokens import hash_token, issue_token_for_account
from core.orders.models import Order
from web.openapi import EXAMPLE

URL = "/api/v1/orders"


def body(**changes) -> dict:
    order = json.loads(json.dumps(EXAMPLE))
    for key, value in changes.items():
        target, *path = key.split(".")
        holder = order
        if path:
            holder = order[target]
            target = path[0]
        if value is ...:
            holder.pop(target, None)
        else:
            holder[target] = value
    return order


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def count_orders(uows) -> int:
    async with uows() as uow:
        return await uow.session.scalar(select(func.count()).select_from(Order))


async def test_new_order_201_then_repeat_200(api, token, uows):
    first = await api.post(URL, json=body(), headers=auth(token))
    assert first.status == 201
    created = await first.json()
    assert created["number"] == "10042" and created["total"] == 300_000
    assert created["status"] == "new" and created["assigned"] is False
    again = await api.post(URL, json=body(), headers=auth(token))
    assert again.status == 200
    assert (await again.json())["id"] == created["id"]
    # Another body under the same external_id changes nothing (409, see test_intake_race.py).
    changed = await api.post(URL, json=body(total="1.00"), headers=auth(token))
    assert changed.status == 409
    async with uows() as uow:
        order = await uow.session.get(Order, created["id"])
        audit = await uow.session.scalar(
            select(func.count()).where(AuditEntry.action == "order.created")
        )
    assert order.total == 300_000 and order.items == [
        {"title": "Чайник", "qty": 2, "price": 150_000}
    ]
    assert order.source == "api" and order.customer_phone == "+7 900 123-45-67"
    assert order.placed_at.isoformat() == "2026-11-22T09:00:00+00:00"
    assert audit == 1


@pytest.mark.parametrize(
    ("total", "kopecks"),
    [
        ("1500", 150_000),
        ("1 500,50", 150_050),
        (150_050, 150_050),
        ("12\u00a0500,50\u00a0₽", 1_250_050),
        ("12\u202f500.50", 1_250_050),
    ],
)
async def test_amounts_as_decimal_strings_or_integer_kopecks(api, token, uows, total, kopecks):
    reply = await api.post(URL, json=body(total=total), headers=auth(token))
    assert reply.status == 201
    assert (await reply.json())["total"] == kopecks


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"external_id": ...}, "external_id"),
        ({"number": ...}, "number"),
        ({"customer": ...}, "customer"),
        ({"customer.name": ...}, "customer.name"),
        ({"customer.name": "  "}, "customer.name"),
        ({"total": ...}, "total"),
    ],
)
async def test_missing_fields_are_named(api, token, uows, changes, field):
    reply = await api.post(URL, json=body(**changes), headers=auth(token))
    assert reply.status == 422
    error = (await reply.json())["error"]
    assert error["field"] == field and "required" in error["message"]
    assert await count_orders(uows) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer": "Иван"}, "customer"),
        ({"items": "Чайник"}, "items"),
        ({"items": ["Чайник"]}, "items[0]"),
        ({"items": [{"title": "Чайник", "qty": "two", "price": "1"}]}, "items[0].qty"),
        ({"items": [{"title": "Чайник", "qty": 1, "price": 1.5}]}, "items[0].price"),
        ({"items": [{"title": "Чайник", "qty": 0, "price": 1}]}, "items[0].qty"),
        ({"total": 3000.5}, "total"),
        ({"total": True}, "total"),
        ({"total": "три тысячи"}, "total"),
        ({"number": ["10042"]}, "number"),
        ({"number": "10 042"}, "number"),
        ({"customer.phone": "позвоните"}, "customer.phone"),
        ({"customer.email": "ivan"}, "customer.email"),
        ({"currency": "rubles"}, "currency"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"created_at": "2026-11-22T12:00:00"}, "created_at"),
        ({"comment": {"text": "x"}}, "comment"),
        ({"comment": "x" * 2001}, "comment"),
    ],
)
async def test_wrong_types_and_values_are_named(api, token, uows, changes, field):
    reply = await api.post(URL, json=body(**changes), headers=auth(token))
    assert reply.status == 422, await reply.text()
    error = (await reply.json())["error"]
    assert (error["code"], error["field"]) == ("invalid_field", field)
    assert error["message"].startswith(field)
    assert await count_orders(uows) == 0


@pytest.mark.parametrize(
    ("total", "message"),
    [
        (
            "1,500",
            "total: 1,500 can be read as 1\u00a0500,00\u00a0₽ or 1,50\u00a0₽; write 1500 or 1,50.",
        ),
        ("1.500,50", "total: not an amount; write rubles like 1500, 1 500,50 or 1500.50."),
        ("100 000 000 001", "total: too large, at most 100\u00a0000\u00a0000\u00a0000,00\u00a0₽."),
        (10**14, "total: too large, at most 100\u00a0000\u00a0000\u00a0000,00\u00a0₽."),
    ],
)
async def test_an_unclear_total_is_422_naming_the_field_and_why(api, token, uows, total, message):
    reply = await api.post(URL, json=body(total=total), headers=auth(token))
    assert reply.status == 422
    error = (await reply.json())["error"]
    assert (error["code"], error["field"], error["message"]) == ("invalid_field", "total", message)
    assert await count_orders(uows) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[" * 100_00 + b"]" * 100_00])
async def test_bad_json_is_400(api, token, uows, raw):
    reply = await api.post(URL, data=raw, headers=auth(token))
    assert reply.status in (400, 413)
    assert (await reply.json())["error"]["code"] in {"invalid_json", "body_too_large"}
    assert await count_orders(uows) == 0


async def test_json_that_is_not_an_object_is_named(api, token, uows):
    reply = await api.post(URL, json=[body()], headers=auth(token))
    assert reply.status == 422
    assert (await reply.json())["error"]["field"] == "body"


async def test_body_over_64_kib_is_413(api, token, uows):
    reply = await api.post(URL, json=body(comment="x" * 70_000), headers=auth(token))
    assert reply.status == 413
    assert (await reply.json())["error"]["code"] == "body_too_large"
    assert await count_orders(uows) == 0


async def test_missing_unknown_and_revoked_tokens_are_401(api, token, uows, shop):
    missing = await api.post(URL, json=body())
    assert missing.status == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    unknown = await api.post(URL, json=body(), headers=auth("sd_" + "x" * 43))
    assert unknown.status == 401
    assert (await unknown.json())["error"]["code"] == "unauthorized"
    basic = await api.post(URL, json=body(), headers={"Authorization": f"Basic {token}"})
    assert basic.status == 401
    async with uows() as uow:
        rotated = await issue_token_for_account(uow, shop["owner"].account_id)
    revoked = await api.post(URL, json=body(), headers=auth(token))
    assert revoked.status == 401
    assert await count_orders(uows) == 0
    assert (await api.post(URL, json=body(), headers=auth(rotated.token))).status == 201


async def test_token_is_stored_hashed(uows, token):
    async with uows() as uow:
        stored = (await uow.session.scalars(select(ApiToken))).one()
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash
    assert len(token) >= 40


async def test_taken_number_is_409_naming_the_field(api, token, uows):
    assert (await api.post(URL, json=body(), headers=auth(token))).status == 201
    reply = await api.post(URL, json=body(external_id="other"), headers=auth(token))
    assert reply.status == 409
    assert (await reply.json())["error"]["field"] == "number"
    assert await count_orders(uows) == 1


async def test_orders_stay_in_the_tokens_account(api, token, uows, shop):
    from tests.support.factories import new_account

    other = await new_account(uows, owner_tg=9000, name="Other")
    async with uows() as uow:
        other_token = (await issue_token_for_account(uow, other.account_id)).token
    mine = await (await api.post(URL, json=body(), headers=auth(token))).json()
    theirs = await (await api.post(URL, json=body(), headers=auth(other_token))).json()
    assert mine["id"] != theirs["id"]  # the same external_id in two accounts: two orders
    async with uows() as uow:
        order = await uow.session.get(Order, theirs["id"])
    assert order.account_id == other.account_id


async def test_healthz(api):
    for path in ("/healthz", "/readyz"):  # /healthz is the older name of /readyz
        reply = await api.get(path)
        body = await reply.json()
        assert reply.status == 200 and body == {
            "status": "ok",
            "database": "ok",
            "redis": "off",
            "telegram": "pending",  # long polling: menu not registered yet, still ready
        }


async def test_readiness_503_but_liveness_and_metrics_200_when_the_database_is_down(
    sqlite_url, clock
):
    from aiohttp.test_utils import TestClient, TestServer

    from core.settings import Settings
    from shopdesk.app import build_app
    from web.server import build_web_app

    settings = Settings(_env_file=None, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = build_app(settings)
    client = TestClient(TestServer(build_web_app(app.web)))
    await client.start_server()
    try:
        down = {
            "status": "unavailable",
            "database": "failed",
            "redis": "off",
            "telegram": "pending",
        }
        for path in ("/healthz", "/readyz"):
            reply = await client.get(path)
            assert reply.status == 503 and (await reply.json()) == down
        live = await client.get("/livez")
        assert live.status == 200 and (await live.json()) == {"status": "ok"}
        scrape = await client.get("/metrics")
        assert scrape.status == 200
        text = await scrape.text()
        assert 'shopdesk_metrics_stale{gauge="outbox_pending"} 1.0' in text
        assert 'shopdesk_metrics_stale{gauge="outbox_oldest_pending_seconds"} 1.0' in text
        assert "process_resident_memory_bytes" in text
    finally:
        await client.close()
        await app.engine.dispose()


async def test_openapi_document_describes_the_api(api, token):
    reply = await api.get("/api/v1/openapi.json")
    assert reply.status == 200
    doc = await reply.json()
    assert doc["openapi"].startswith("3.1")
    post = doc["paths"]["/api/v1/orders"]["post"]
    assert {"200", "201", "400", "401", "409", "413", "422"} <= set(post["responses"])
    schema = doc["components"]["schemas"]["NewOrder"]
    assert set(schema["required"]) == {"external_id", "number", "customer", "total"}
    # The documented example is accepted as is.
    example = post["requestBody"]["content"]["application/json"]["example"]
    assert (await api.post(URL, json=example, headers=auth(token))).status == 201


async def test_new_order_from_the_api_is_announced_once(api, token, app, shop, uows):
    from aiogram.methods import SendMessage

    from core.orders.announce import set_order_notifications

    async with uows() as uow:
        await set_order_notifications(uow, shop["m1"], True)
    await api.post(URL, json=body(), headers=auth(token))
    await api.post(URL, json=body(), headers=auth(token))  # a repeat announces nothing
    await api.drain()
    announced = [
        r.text
        for r in app.bot.session.requests
        if isinstance(r, SendMessage) and int(r.chat_id) == 3001
    ]
    assert len(announced) == 1 and "Новый заказ №10042" in announced[0]
