"""web/ runs on its WebDeps alone: no App, no dispatcher, no aiogram object."""

from __future__ import annotations

import asyncio
import gc

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from core.db.engine import session_factory
from core.db.uow import UnitOfWorkFactory
from core.intake.tokens import issue_token_for_account
from core.metrics import Metrics
from core.notifications.models import OutboxMessage
from core.orders.announce import set_order_notifications
from tests.support.factories import new_account
from web.deps import WebDeps
from web.openapi import EXAMPLE
from web.server import build_web_app
from web.webhook import WebhookEndpoint


async def _ok() -> None:
    return None


async def _down() -> None:
    raise ConnectionError("redis is down")


@pytest.fixture
def uows(sqlite_engine, clock) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory(sqlite_engine), clock)


def deps(uows, woken: list | None = None, **changes) -> WebDeps:
    woken = [] if woken is None else woken
    values = dict(
        uows=uows,
        metrics=Metrics(),
        health={"database": _ok},
        explain=lambda error: f"explained {error.code}",
        wake=lambda: woken.append(True),
        host="127.0.0.1",
        port=0,
        intake_per_minute=100,
    )
    values.update(changes)
    return WebDeps(**values)


async def _client(web_deps: WebDeps) -> TestClient:
    client = TestClient(TestServer(build_web_app(web_deps)))
    await client.start_server()
    return client


async def test_health_names_each_check_and_fails_when_one_fails(uows):
    client = await _client(deps(uows, health={"database": _ok, "redis": _down}))
    try:
        reply = await client.get("/healthz")
        assert reply.status == 503
        assert await reply.json() == {"status": "unavailable", "database": "ok"}
    finally:
        await client.close()


async def test_a_new_order_wakes_the_sender_with_its_announcement_queued_and_errors_go_to_explain(
    uows,
):
    owner = await new_account(uows)
    async with uows() as uow:
        token = (await issue_token_for_account(uow, owner.account_id)).token
    async with uows() as uow:
        await set_order_notifications(uow, owner, True)
    woken: list[bool] = []
    client = await _client(deps(uows, woken))
    try:
        headers = {"Authorization": f"Bearer {token}"}
        created = await client.post("/api/v1/orders", json=EXAMPLE, headers=headers)
        assert created.status == 201
        again = await client.post("/api/v1/orders", json=EXAMPLE, headers=headers)
        assert again.status == 200
        assert woken == [True]  # once: the repeat is not new
        async with uows() as uow:
            queued = await uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.account_id == owner.account_id)
            )
        assert queued >= 1  # the core wrote the announcement with the order
        refused = await client.post("/api/v1/orders", json={}, headers=headers)
        assert refused.status == 422
        assert (await refused.json())["error"]["message"].startswith("explained ")
    finally:
        await client.close()


async def test_the_webhook_feeds_the_callable_it_was_given(uows):
    fed: list[dict] = []

    async def feed(update: dict) -> None:
        fed.append(update)

    hook = WebhookEndpoint("/hook", "a-secret-of-some-length", feed)
    client = await _client(deps(uows, webhook=hook))
    try:
        wrong = await client.post("/hook", json={"update_id": 1}, headers={})
        assert wrong.status == 401
        headers = {"X-Telegram-Bot-Api-Secret-Token": "a-secret-of-some-length"}
        assert (await client.post("/hook", json={"update_id": 2}, headers=headers)).status == 200
        assert (await client.post("/hook", data=b"{no", headers=headers)).status == 400
        await hook.drain()
        assert fed == [{"update_id": 2}]
    finally:
        await client.close()


async def test_the_webhook_refuses_what_is_not_an_update_and_feeds_nothing(uows, caplog):
    fed: list[dict] = []

    async def feed(update: dict) -> None:
        fed.append(update)

    hook = WebhookEndpoint("/hook", "a-secret-of-some-length", feed)
    client = await _client(deps(uows, webhook=hook))
    headers = {"X-Telegram-Bot-Api-Secret-Token": "a-secret-of-some-length"}
    nested = b"[" * 5000 + b"]" * 5000  # RecursionError in the JSON decoder: was a 500
    not_updates = [
        nested,
        b'{"update_id": 5, "message": ' + nested + b"}",
        b"[1, 2]",
        b"42",
        b'"text"',
        b"null",
        b'{"message": {}}',
        b'{"update_id": "7"}',
        b'{"update_id": true}',
    ]
    try:
        for body in not_updates:
            reply = await client.post("/hook", data=body, headers=headers)
            assert reply.status == 400, body[:40]
        await hook.drain()
        assert fed == []
        assert any("not a Telegram update" in r.getMessage() for r in caplog.records)
    finally:
        await client.close()


async def test_a_failing_update_is_logged_with_its_id_and_never_left_unretrieved(uows, caplog):
    async def feed(update: dict) -> None:
        raise ValueError(f"cannot read update {update['update_id']}")

    hook = WebhookEndpoint("/hook", "a-secret-of-some-length", feed)
    client = await _client(deps(uows, webhook=hook))
    headers = {"X-Telegram-Bot-Api-Secret-Token": "a-secret-of-some-length"}
    loop = asyncio.get_running_loop()
    unhandled: list[dict] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        reply = await client.post("/hook", json={"update_id": 77, "message": 5}, headers=headers)
        assert reply.status == 200  # answered: Telegram must not resend it forever
        await hook.drain()
        await asyncio.sleep(0)
        gc.collect()  # an unretrieved task exception is reported when the task is collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
        await client.close()
    assert unhandled == []
    failures = [r for r in caplog.records if r.name == "web.webhook" and r.levelname == "ERROR"]
    assert len(failures) == 1 and "77" in failures[0].getMessage()
    assert "cannot read update 77" in str(failures[0].exc_info[1])
