"""Bad deliveries get a clear 4xx and leave nothing behind; unknown and paused connectors;
Ecwid's fetch retried from the stored delivery; one delivery posted to two processes at once
makes one order (SQLite and, with TEST_POSTGRES_URL, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from core.connectors import deliveries
from core.connectors.models import Connector, ConnectorDelivery, DeliveryStatus
from core.connectors.service import set_paused_for_account
from core.notifications.models import OutboxMessage
from core.orders.notices import CHANGED_BY_STORE
from core.orders.service import claim_order
from shopdesk.app import build_app
from tests.connectors.conftest import make_hook, settings_for
from tests.connectors.support import counts, fixture, orders
from tests.support.bot_client import RecordingSession
from tests.support.db import copy_sqlite
from tests.support.factories import new_account
from web.server import build_web_app


def shopify_body(**changes) -> bytes:
    data = json.loads(fixture("shopify", "create"))
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            data[outer][inner] = value
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode()


async def post(api, hook, body: bytes, **kwargs):
    path, headers = hook.request(body, **kwargs)
    return await api.post(path, data=body, headers=headers)


BAD = {
    "truncated JSON": (lambda: fixture("shopify", "create")[:-40], {}, 400, "hook_json"),
    "wrong content type": (
        lambda: fixture("shopify", "create"),
        {"content_type": "text/plain"},
        415,
        "hook_content_type",
    ),
    "2 MB body": (lambda: b'{"a":"' + b"x" * (2 * 1024 * 1024) + b'"}', {}, 413, "body_too_large"),
    "NUL in a field": (lambda: shopify_body(note="a\u0000b"), {}, 422, "field_characters"),
    "a raw NUL byte": (lambda: fixture("shopify", "create") + b"\x00", {}, 400, "hook_json"),
    "total abc": (lambda: shopify_body(total_price="abc"), {}, 422, "field_amount"),
    "40-digit phone": (lambda: shopify_body(**{"customer.phone": "1" * 40}), {}, 422, None),
    "not UTF-8": (lambda: b'{"name": "\xff\xfe"}', {}, 400, "hook_encoding"),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_bad_input_is_a_clear_4xx_and_nothing_is_stored(case, app, api, hook_for):
    hook = await hook_for("shopify")
    make, kwargs, status, code = BAD[case]
    response = await post(api, hook, make(), **kwargs)
    assert response.status == status, await response.text()
    error = (await response.json())["error"]
    if code:
        assert error["code"] == code
    assert error["message"]
    if status == 422:
        assert error["field"]
    await deliveries.drain(app.uows, app.connectors)
    assert await counts(app.uows) == (0, 0)


async def test_a_bad_tilda_phone_names_the_field(app, api, hook_for):
    hook = await hook_for("tilda")
    body = b"Name=A&Phone=" + b"1" * 40 + b"&payment[orderid]=1&payment[amount]=10"
    response = await post(api, hook, body)
    assert response.status == 422
    assert (await response.json())["error"] == {
        "code": "field_phone",
        "message": (await response.json())["error"]["message"],
        "field": "Phone",
    }
    async with app.uows() as uow:
        connector = (await uow.session.scalars(select(Connector))).one()
    assert connector.last_error == "field_phone (Phone)"


async def test_unknown_and_paused_connectors(app, api, hook_for, shop):
    hook = await hook_for("shopify")
    body = fixture("shopify", "create")
    path, headers = hook.request(body)
    assert (await api.post("/hooks/shopify/999", data=body, headers=headers)).status == 404
    wrong_platform = path.replace("/shopify/", "/insales/")
    assert (await api.post(wrong_platform, data=body, headers=headers)).status == 404
    async with app.uows() as uow:
        await set_paused_for_account(uow, shop["owner"].account_id, int(path.split("/")[-1]), True)
    assert (await api.post(path, data=body, headers=headers)).status == 410
    assert await counts(app.uows) == (0, 0)


async def test_a_failed_ecwid_fetch_is_retried_from_the_stored_delivery(
    app, api, hook_for, ecwid, clock
):
    hook = await hook_for("ecwid")
    ecwid.put("order", 20)
    ecwid.fail_next = 2  # both quick attempts fail: the delivery waits
    body = fixture("ecwid", "create")
    assert (await post(api, hook, body)).status == 200
    await app.hooks.idle()
    await deliveries.drain(app.uows, app.connectors)
    assert await counts(app.uows) == (0, 1)
    async with app.uows() as uow:
        row = (await uow.session.scalars(select(ConnectorDelivery))).one()
        connector = (await uow.session.scalars(select(Connector))).one()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert connector.last_error == "ecwid answered 503"
    clock.advance(timedelta(minutes=1))
    await deliveries.drain(app.uows, app.connectors)
    [order] = await orders(app.uows)
    assert order.number == "20"


@pytest.fixture(params=["sqlite", "postgres"])
async def two_apps(request, sqlite_template, tmp_path, clock, ecwid):
    """Two processes' apps on one database."""
    if request.param == "sqlite":
        url = copy_sqlite(sqlite_template, tmp_path / "two.db")
        engines = [None, None]
    else:
        schema = request.getfixturevalue("pg_schema")
        url = schema.url
        engines = [schema.engine(), schema.engine()]
        await schema.truncate(engines[0])
    apps = [
        build_app(settings_for(url, ecwid.base), session=RecordingSession(), clock=clock, engine=e)
        for e in engines
    ]
    clients = []
    for app in apps:
        client = TestClient(TestServer(build_web_app(app.web)))
        await client.start_server()
        clients.append(client)
    yield apps, clients
    for client in clients:
        await client.close()
    for app in apps:
        await app.engine.dispose()


async def test_one_delivery_to_two_processes_at_once_makes_one_order(two_apps):
    apps, clients = two_apps
    owner = await new_account(apps[0].uows, name="Shop")
    hook = await make_hook(apps[0], owner.account_id, "shopify")
    for n in range(3):
        body = shopify_body(id=5000 + n, name=f"#{5000 + n}")
        path, headers = hook.request(body, delivery=f"race-{n}")
        replies = await asyncio.gather(
            *(client.post(path, data=body, headers=headers) for client in clients)
        )
        assert sorted(r.status for r in replies) == [200, 200]
        outcomes = sorted([(await r.json())["outcome"] for r in replies])
        assert outcomes == ["duplicate", "stored"]
        await asyncio.gather(*(app.hooks.idle() for app in apps))
        await asyncio.gather(*(deliveries.drain(app.uows, app.connectors) for app in apps))
    # The same content under two delivery ids, applied by both processes at once.
    body = shopify_body(id=6000, name="#6000")
    for n, client in enumerate(clients):
        path, headers = hook.request(body, delivery=f"twin-{n}")
        assert (await client.post(path, data=body, headers=headers)).status == 200
    await asyncio.gather(*(app.hooks.idle() for app in apps))
    await asyncio.gather(*(deliveries.drain(app.uows, app.connectors) for app in apps))
    assert await counts(apps[0].uows) == (4, 5)
    assert sorted(o.number for o in await orders(apps[0].uows)) == [
        "5000",
        "5001",
        "5002",
        "6000",
    ]


async def test_a_change_in_the_shop_tells_the_assignee(app, api, hook_for, shop):
    hook = await hook_for("shopify")
    body = fixture("shopify", "create")
    path, headers = hook.request(body, event="orders/create")
    assert (await api.post(path, data=body, headers=headers)).status == 200
    await app.hooks.idle()
    await deliveries.drain(app.uows, app.connectors)
    [order] = await orders(app.uows)
    async with app.uows() as uow:
        await claim_order(uow, shop["m1"], order.id)
    body = fixture("shopify", "update")
    path, headers = hook.request(body, event="orders/updated")
    assert (await api.post(path, data=body, headers=headers)).status == 200
    await app.hooks.idle()
    await deliveries.drain(app.uows, app.connectors)
    async with app.uows() as uow:
        [notice] = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == CHANGED_BY_STORE)
            )
        )
    assert notice.member_id == shop["m1"].member_id
    assert notice.params["total"] == 289000 and notice.params["source"] == "shopify"
    # The sender can render it (the message reaches the assignee's chat).
    await app.sender.drain()
    async with app.uows() as uow:
        sent = await uow.session.get(OutboxMessage, notice.id, populate_existing=True)
    assert sent.status == "sent"


async def test_an_ecwid_event_of_another_store_is_refused(app, api, hook_for):
    hook = await hook_for("ecwid")
    data = json.loads(fixture("ecwid", "create"))
    data["storeId"] = 9999
    body = json.dumps(data).encode()
    response = await post(api, hook, body)
    assert response.status == 422
    assert (await response.json())["error"]["field"] == "storeId"
    assert await counts(app.uows) == (0, 0)
