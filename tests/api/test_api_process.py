"""The real process: `account token` prints the token last; `run` serves the intake API."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys

import aiohttp

from tests.e2e.test_cli import run_cli
from tests.e2e.test_process import ROOT, bot_env
from tests.support.telegram_standin import TelegramStandIn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_cli_token_then_run_serves_the_intake_api(tmp_path):
    db = tmp_path / "db.sqlite"
    await asyncio.to_thread(
        run_cli, "account", "create", "--name", "Shop", "--owner-telegram-id", "1", database=db
    )
    issued, missing = await asyncio.gather(
        asyncio.to_thread(run_cli, "account", "token", "1", database=db),
        asyncio.to_thread(run_cli, "account", "token", "99", database=db),
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("sd_") and " " not in token and len(token) > 40
    assert "shown only now" in issued.stdout
    assert missing.returncode == 1 and "No account with id 99." in missing.stderr
    standin = TelegramStandIn()
    await standin.start()
    port = free_port()
    env = bot_env(standin, f"sqlite+aiosqlite:///{db}")
    env["HTTP_PORT"] = str(port)
    log = (tmp_path / "bot.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(900):
                try:
                    async with http.get(f"{base}/healthz") as health:
                        if health.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the intake API did not come up")
            order = {
                "external_id": "e1",
                "number": "1",
                "customer": {"name": "Анна"},
                "total": "10.50",
            }
            headers = {"Authorization": f"Bearer {token}"}
            async with http.post(f"{base}/api/v1/orders", json=order, headers=headers) as reply:
                assert reply.status == 201
                assert (await reply.json())["total"] == 1050
            async with http.post(f"{base}/api/v1/orders", json=order, headers=headers) as reply:
                assert reply.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        await standin.stop()
        log.seek(0)
        output = log.read()
    assert token not in output, "the API token leaked into the log"
    assert f"HTTP server listening on http://127.0.0.1:{port}" in output
