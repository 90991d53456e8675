"""Webhook mode and the operator endpoints, served by the bot's own HTTP server."""

from __future__ import annotations

import asyncio
import gc

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.console.chat import ChatClient, OfflineSession
from core.settings import SettingsError, load_settings
from shopdesk.app import build_app
from tests.support.factories import new_account
from web.server import build_web_app

SECRET = "s3cret-token_for-tests"
HOOK = "/telegram/hook-x1"


@pytest.fixture
async def served(sqlite_url, clock):
    settings = load_settings(
        _env_file=None,
        database_url=sqlite_url,
        webhook_url=f"https://bot.example.com{HOOK}",
        webhook_secret=SECRET,
    )
    app = build_app(settings, session=OfflineSession(), clock=clock)
    client = TestClient(TestServer(build_web_app(app.web)))
    await client.start_server()
    yield app, client
    await client.close()
    await app.engine.dispose()


def _update(app) -> dict:
    chat = ChatClient(app.dp, app.bot, 1000)
    return chat.message_update("/help").model_dump(mode="json", exclude_none=True)


async def _settle(app) -> None:
    await app.webhook.drain()
    await asyncio.sleep(0)


async def test_webhook_without_the_secret_is_refused_and_nothing_runs(served):
    app, client = served
    await new_account(app.uows)
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        reply = await client.post(HOOK, json=_update(app), headers=headers)
        assert reply.status == 401
    await _settle(app)
    assert app.bot.session.requests == []


async def test_webhook_answers_at_once_and_handles_in_the_background(served):
    app, client = served
    await new_account(app.uows)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    update = _update(app)
    reply = await client.post(HOOK, json=update, headers=headers)
    assert reply.status == 200
    again = await client.post(HOOK, json=update, headers=headers)  # Telegram's redelivery
    assert again.status == 200
    await _settle(app)
    texts = [r.text for r in app.bot.session.requests if hasattr(r, "text")]
    assert len(texts) == 1 and "Ваша роль" in texts[0]
    bad = await client.post(HOOK, data=b"{not json", headers=headers)
    assert bad.status == 400


async def test_metrics_count_updates_and_show_the_outbox(served):
    app, client = served
    await new_account(app.uows)
    update = _update(app)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    await client.post(HOOK, json=update, headers=headers)
    await _settle(app)
    await client.post(HOOK, json=update, headers=headers)  # Telegram's redelivery
    await _settle(app)
    body = await (await client.get("/metrics")).text()
    assert 'shopdesk_updates_total{type="message"} 1.0' in body
    assert 'shopdesk_updates_redelivered_total{type="message"} 1.0' in body
    assert "shopdesk_update_seconds_count 1.0" in body
    assert "shopdesk_outbox_pending 0.0" in body
    assert "shopdesk_messages_sent_total 0.0" in body


def test_webhook_url_needs_a_secret():
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None, webhook_url="https://bot.example.com/hook")
    assert "WEBHOOK_SECRET" in str(err.value)
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None, webhook_url="https://x.io/h", webhook_secret="short")
    assert "WEBHOOK_SECRET" in str(err.value)


async def test_webhook_garbage_is_400_and_an_unreadable_update_is_dropped_and_logged(
    served, caplog
):
    app, client = served
    await new_account(app.uows)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    nested = b"[" * 5000 + b"]" * 5000
    for body in (nested, b"[1]", b'{"ok": true}', b'{"update_id": "1"}'):
        reply = await client.post(HOOK, data=body, headers=headers)
        assert reply.status == 400, body[:40]  # not 500, and nothing reaches the dispatcher
    loop = asyncio.get_running_loop()
    unhandled: list[dict] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        # An update_id with a body aiogram cannot read: 200, so Telegram does not resend it.
        reply = await client.post(HOOK, json={"update_id": 4242, "message": 5}, headers=headers)
        assert reply.status == 200
        await _settle(app)
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert unhandled == []
    dropped = [
        r for r in caplog.records if r.name == "core.inbox.worker" and r.levelname == "ERROR"
    ]
    assert len(dropped) == 1 and "4242" in dropped[0].getMessage()
    assert app.bot.session.requests == []
    # The endpoint still works after all of that.
    reply = await client.post(HOOK, json=_update(app), headers=headers)
    assert reply.status == 200
    await _settle(app)
    assert any(hasattr(r, "text") for r in app.bot.session.requests)
