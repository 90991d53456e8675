"""web/ runs on its WebDeps alone: no App, no dispatcher, no aiogram object."""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from core import metrics as core_metrics
from core.db.engine import session_factory
from core.db.uow import UnitOfWorkFactory
from core.inbox.worker import InboxWorker
from core.intake.tokens import issue_token_for_account
from core.limits import Limiter, MemoryStorage
from core.metrics import Metrics
from core.notifications.models import OutboxMessage, OutboxStatus
from core.orders.announce import set_order_notifications
from tests.support.factories import new_account
from web.deps import IntakeLimits, WebDeps
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
        intake_limits=IntakeLimits(Limiter(MemoryStorage()), per_minute=100),
    )
    values.update(changes)
    return WebDeps(**values)


async def _client(web_deps: WebDeps) -> TestClient:
    client = TestClient(TestServer(build_web_app(web_deps)))
    await client.start_server()
    return client


async def test_readiness_names_each_check_and_fails_when_one_fails(uows):
    client = await _client(deps(uows, health={"database": _ok, "redis": _down}))
    try:
        for path in ("/readyz", "/healthz"):  # /healthz: the older name of /readyz
            reply = await client.get(path)
            assert reply.status == 503
            body = await reply.json()
            assert body == {"status": "unavailable", "database": "ok", "redis": "failed"}
        live = await client.get("/livez")  # the process itself is up
        assert live.status == 200 and await live.json() == {"status": "ok"}
    finally:
        await client.close()


async def test_readiness_is_200_with_redis_off_when_none_is_configured(uows):
    client = await _client(deps(uows, health={"database": _ok, "redis": None}))
    try:
        reply = await client.get("/readyz")
        assert reply.status == 200
        assert await reply.json() == {"status": "ok", "database": "ok", "redis": "off"}
    finally:
        await client.close()


async def test_a_check_that_hangs_is_a_timeout_and_the_others_are_still_reported(uows, monkeypatch):
    async def hangs() -> None:
        await asyncio.sleep(60)

    monkeypatch.setattr("web.server.READY_TIMEOUT", 0.05)
    client = await _client(deps(uows, health={"database": hangs, "redis": _ok}))
    try:
        reply = await client.get("/readyz")
        assert reply.status == 503
        assert await reply.json() == {"status": "unavailable", "database": "timeout", "redis": "ok"}
    finally:
        await client.close()


class _Switchable:
    """A units-of-work factory whose database can be taken away (raising or hanging)."""

    def __init__(self, uows: UnitOfWorkFactory) -> None:
        self.uows = uows
        self.clock = uows.clock
        self.mode = "up"

    def __call__(self):
        if self.mode == "up":
            return self.uows()
        return self

    async def __aenter__(self):
        if self.mode == "hangs":
            await asyncio.sleep(60)
        raise ConnectionRefusedError("the database is down")

    async def __aexit__(self, *exc) -> None:
        return None


async def test_metrics_answer_200_while_the_database_is_down_with_the_last_values_marked_stale(
    uows, clock, monkeypatch
):
    owner = await new_account(uows)
    now = clock.now()
    async with uows() as uow:
        # due for 90 s; held until later (quiet hours), which is not "waiting"; already sent
        for key, not_before, status in (
            ("due", now - timedelta(seconds=90), OutboxStatus.PENDING),
            ("later", now + timedelta(hours=1), OutboxStatus.PENDING),
            ("sent", now - timedelta(hours=5), OutboxStatus.SENT),
        ):
            uow.session.add(
                OutboxMessage(
                    account_id=owner.account_id,
                    event_key=key,
                    chat_id=1,
                    kind="test",
                    params={},
                    locale="en",
                    status=status,
                    not_before=not_before,
                    created_at=now - timedelta(hours=6),
                )
            )
        await uow.commit()
    switch = _Switchable(uows)
    client = await _client(deps(switch))
    try:
        fresh = await client.get("/metrics")
        assert fresh.status == 200
        text = await fresh.text()
        assert "shopdesk_outbox_pending 2.0" in text
        assert "shopdesk_outbox_oldest_pending_seconds 90.0" in text
        assert 'shopdesk_metrics_stale{gauge="outbox_pending"} 0.0' in text
        assert 'shopdesk_metrics_stale{gauge="outbox_oldest_pending_seconds"} 0.0' in text
        # the default collectors: process and Python metrics
        assert "process_resident_memory_bytes" in text
        assert "python_gc_objects_collected_total" in text
        assert "python_info{" in text

        usual = core_metrics.DATABASE_GAUGES_TIMEOUT
        monkeypatch.setattr("core.metrics.DATABASE_GAUGES_TIMEOUT", 0.05)
        for mode in ("raises", "hangs"):
            switch.mode = mode
            stale = await client.get("/metrics")
            assert stale.status == 200, mode
            text = await stale.text()
            assert "shopdesk_outbox_pending 2.0" in text  # the last value is kept
            assert "shopdesk_outbox_oldest_pending_seconds 90.0" in text
            assert 'shopdesk_metrics_stale{gauge="outbox_pending"} 1.0' in text
            assert 'shopdesk_metrics_stale{gauge="outbox_oldest_pending_seconds"} 1.0' in text

        # Back up with the usual time limit (50 ms is too short for a loaded machine's query).
        monkeypatch.setattr("core.metrics.DATABASE_GAUGES_TIMEOUT", usual)
        switch.mode = "up"
        text = await (await client.get("/metrics")).text()
        assert 'shopdesk_metrics_stale{gauge="outbox_pending"} 0.0' in text
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


async def test_an_order_nobody_is_told_about_does_not_wake_the_sender(uows):
    """No member opted in and no group: the order writes no outbox row, so the sender (which
    would claim due rows in a transaction of its own) is left asleep."""
    owner = await new_account(uows)
    async with uows() as uow:
        token = (await issue_token_for_account(uow, owner.account_id)).token
    woken: list[bool] = []
    client = await _client(deps(uows, woken))
    try:
        headers = {"Authorization": f"Bearer {token}"}
        created = await client.post("/api/v1/orders", json=EXAMPLE, headers=headers)
        assert created.status == 201
        async with uows() as uow:
            queued = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert queued == 0
        assert woken == []
    finally:
        await client.close()


def _hook(uows, feed) -> WebhookEndpoint:
    inbox = InboxWorker(uows, feed, bound=10, lease=timedelta(seconds=30))
    return WebhookEndpoint("/hook", "a-secret-of-some-length", inbox)


async def test_the_webhook_feeds_the_callable_it_was_given(uows):
    fed: list[dict] = []

    async def feed(update: dict) -> None:
        fed.append(update)

    hook = _hook(uows, feed)
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

    hook = _hook(uows, feed)
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

    hook = _hook(uows, feed)
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
    failures = [
        r for r in caplog.records if r.name == "core.inbox.worker" and r.levelname == "ERROR"
    ]
    assert len(failures) == 1 and "77" in failures[0].getMessage()
    assert "cannot read update 77" in str(failures[0].exc_info[1])


async def test_the_webhook_answers_503_with_retry_after_when_it_cannot_take_an_update(uows):
    """Past the bound, with a gate (Redis) down, or with the database failing: 503, nothing
    written, so Telegram redelivers; then 200 once the process can take updates again."""
    from core.inbox.models import InboxUpdate

    release = asyncio.Event()
    fed: list[int] = []

    async def feed(update: dict) -> None:
        await release.wait()
        fed.append(update["update_id"])

    redis_up = [True]

    async def redis_ping() -> None:
        if not redis_up[0]:
            raise ConnectionError("redis is down")

    metrics = Metrics()
    inbox = InboxWorker(uows, feed, bound=2, lease=timedelta(seconds=30))
    hook = WebhookEndpoint(
        "/hook", "a-secret-of-some-length", inbox, gates={"redis": redis_ping}, metrics=metrics
    )
    client = await _client(deps(uows, webhook=hook))
    headers = {"X-Telegram-Bot-Api-Secret-Token": "a-secret-of-some-length"}

    async def post(update_id: int) -> tuple[int, str | None]:
        reply = await client.post("/hook", json={"update_id": update_id}, headers=headers)
        return reply.status, reply.headers.get("Retry-After")

    try:
        assert await post(1) == (200, None)
        assert await post(2) == (200, None)
        assert await post(3) == (503, "1")  # two in flight: the bound
        assert await post(1) == (503, "1")  # even a redelivery waits for room
        release.set()
        await hook.drain()
        assert await post(1) == (200, None)  # a redelivery: taken, not handled again
        redis_up[0] = False
        assert await post(4) == (503, "1")
        redis_up[0] = True
        down = _Switchable(uows)
        down.mode = "raises"
        hook.inbox = InboxWorker(down, feed, bound=2, lease=timedelta(seconds=30))  # no database
        assert await post(5) == (503, "1")
        hook.inbox = inbox
        assert await post(3) == (200, None)
        await hook.drain()
    finally:
        await client.close()
    assert sorted(fed) == [1, 2, 3]
    async with uows() as uow:
        written = sorted(await uow.session.scalars(select(InboxUpdate.update_id)))
    assert written == [1, 2, 3]
    counted = metrics.registry.get_sample_value(
        "shopdesk_updates_redelivered_total", {"type": "unknown"}
    )
    assert counted == 1.0
