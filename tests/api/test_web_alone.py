"""web/ runs on its WebDeps alone: no App, no dispatcher, no aiogram object."""

from __future__ import annotations

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
