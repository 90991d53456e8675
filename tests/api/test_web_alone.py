"""web/ runs on its WebDeps alone: no App, no dispatcher, no aiogram object."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.db.engine import session_factory
from core.db.uow import UnitOfWorkFactory
from core.intake.tokens import issue_token_for_account
from core.metrics import Metrics
from tests.support.factories import new_account
from web.deps import WebDeps
from web.intake import drain
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


def deps(uows, announced: list | None = None, **changes) -> WebDeps:
    announced = [] if announced is None else announced

    async def announce(account_id: int, order_ids: list[int]) -> None:
        announced.append((account_id, order_ids))

    values = dict(
        uows=uows,
        metrics=Metrics(),
        health={"database": _ok},
        explain=lambda error: f"explained {error.code}",
        announce=announce,
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


async def test_new_orders_go_to_the_announce_callable_and_errors_to_explain(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        token = (await issue_token_for_account(uow, owner.account_id)).token
    announced: list[tuple[int, list[int]]] = []
    client = await _client(deps(uows, announced))
    try:
        headers = {"Authorization": f"Bearer {token}"}
        created = await client.post("/api/v1/orders", json=EXAMPLE, headers=headers)
        assert created.status == 201
        again = await client.post("/api/v1/orders", json=EXAMPLE, headers=headers)
        assert again.status == 200
        await drain(client.app)
        order_id = (await created.json())["id"]
        assert announced == [(owner.account_id, [order_id])]  # once: the repeat is not new
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
