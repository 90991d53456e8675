"""The real process started while the Bot API is unreachable (a closed port): it stays up, the
intake API answers, /readyz tells about Telegram; once the Bot API answers, the menu (and, in
webhook mode, the webhook) gets registered in the background and /readyz says "ok"."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from core.clock import SystemClock
from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from core.intake.tokens import issue_token_for_account
from tests.support.botprocess import BotProcess, bot_env, eventually
from tests.support.factories import new_account
from tests.support.telegram_standin import TelegramStandIn

SECRET = "offline-start-secret-0123456789"
MODES = {
    "polling": {},
    "webhook": {
        "WEBHOOK_URL": "https://shop.example.com/telegram/webhook",
        "WEBHOOK_SECRET": SECRET,
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, dict] | None:
    try:
        async with http.get(url) as reply:
            return reply.status, await reply.json()
    except aiohttp.ClientConnectionError:
        return None


@pytest.mark.parametrize("mode", list(MODES))
async def test_starts_without_telegram_and_registers_once_it_answers(mode, sqlite_url, tmp_path):
    engine = create_engine(sqlite_url)
    uows = UnitOfWorkFactory(session_factory(engine), SystemClock())
    owner = await new_account(uows)
    async with uows() as uow:
        token = (await issue_token_for_account(uow, owner.account_id)).token
    telegram_port, http_port = free_port(), free_port()
    standin = TelegramStandIn()
    standin.base = f"http://127.0.0.1:{telegram_port}"  # nothing listens there yet
    env = bot_env(
        standin,
        sqlite_url,
        HTTP_PORT=str(http_port),
        TELEGRAM_RETRY_MAX_SECONDS="0.2",
        **MODES[mode],
    )
    process = BotProcess(env, tmp_path / "bot.log").start()
    base = f"http://127.0.0.1:{http_port}"
    try:
        async with aiohttp.ClientSession() as http:

            async def live() -> bool:
                return await _get(http, f"{base}/livez") == (200, {"status": "ok"})

            await eventually(live, "/livez answers", process)
            # Telegram has been refused a few times over, and the process is still there.
            await eventually(
                lambda: _async("setMyCommands failed (attempt 3" in process.log(100_000)),
                "registration retried",
                process,
            )
            if mode == "polling":  # aiogram's polling asks getMe first: retried, not fatal
                await eventually(
                    lambda: _async("getMe failed (attempt 3" in process.log(100_000)),
                    "getMe retried",
                    process,
                )
            assert process.popen.poll() is None, process.log()

            order = {"external_id": "e1", "number": "1", "customer": {"name": "Анна"}, "total": "5"}
            headers = {"Authorization": f"Bearer {token}"}
            async with http.post(f"{base}/api/v1/orders", json=order, headers=headers) as reply:
                assert reply.status == 201, await reply.text()

            status, body = await _get(http, f"{base}/readyz")
            if mode == "webhook":  # no update can arrive before setWebhook: not ready
                assert (status, body["telegram"]) == (503, "failed")
                async with http.post(f"{base}/telegram/webhook", json={}) as reply:
                    assert reply.status == 401  # the endpoint is served (the secret is missing)
            else:  # polling retries by itself, the intake API works: ready, Telegram pending
                assert (status, body["telegram"]) == (200, "pending")
            assert not standin.calls

            await standin.start(telegram_port)  # Telegram is back
            await standin.wait_for("setMyCommands", 3)
            if mode == "webhook":
                hook = (await standin.wait_for("setWebhook"))[0]
                assert hook.params["url"] == MODES["webhook"]["WEBHOOK_URL"]
            else:
                await standin.wait_for("getUpdates")

            async def ready() -> bool:
                answer = await _get(http, f"{base}/readyz")
                return answer is not None and answer[0] == 200 and answer[1]["telegram"] == "ok"

            await eventually(ready, "/readyz ok once registered", process, timeout=30)
        assert await process.stop() == 0, process.log()
        assert "stopped cleanly" in process.log()
    finally:
        if process.popen.poll() is None:
            await process.kill()
        await standin.stop()
        await engine.dispose()


async def test_stops_cleanly_while_still_retrying(sqlite_url, tmp_path):
    standin = TelegramStandIn()
    standin.base = f"http://127.0.0.1:{free_port()}"  # never comes up
    env = bot_env(standin, sqlite_url, HTTP_PORT=str(free_port()), TELEGRAM_RETRY_MAX_SECONDS="5")
    process = BotProcess(env, tmp_path / "bot.log").start()
    try:
        await eventually(
            lambda: _async("setMyCommands failed (attempt 1" in process.log(100_000)),
            "first attempt refused",
            process,
        )
        assert await process.stop(timeout=20) == 0, process.log()
        assert "stopped cleanly" in process.log()
    finally:
        if process.popen.poll() is None:
            await process.kill()


async def _async(value: bool) -> bool:
    return value
