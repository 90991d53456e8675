"""The real `python -m bot run` process against the Bot API stand-in on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta

from core.clock import SystemClock
from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from core.members.invites import create_invite
from tests.support.botprocess import ROOT, bot_env
from tests.support.factories import actor_for, new_account
from tests.support.telegram_standin import TelegramStandIn


async def test_new_user_joins_through_the_real_process(sqlite_url, tmp_path):
    standin = TelegramStandIn()
    await standin.start()
    engine = create_engine(sqlite_url)
    uows = UnitOfWorkFactory(session_factory(engine), SystemClock())
    owner = await new_account(uows)
    async with uows() as uow:
        invite = await create_invite(uow, owner, "manager", ttl=timedelta(hours=1))
    log = (tmp_path / "bot.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=bot_env(standin, sqlite_url),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        await standin.wait_for("setMyCommands", 3)
        standin.push_message(777, f"/start {invite.token}", first_name="Ирина")
        sent = await standin.wait_for("sendMessage")
        assert int(sent[0].params["chat_id"]) == 777
        assert "Ирина" in sent[0].params["text"]
        joined = await actor_for(uows, 777)
        assert joined.role_code == "manager"
        languages = {c.params.get("language_code") for c in standin.calls_of("setMyCommands")}
        assert {"ru", "en"} <= languages
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        await standin.stop()
        await engine.dispose()
        log.seek(0)
        output = log.read()
    assert standin.token not in output, "the bot token leaked into the log"
    assert process.returncode == 0, output[-2000:]
    assert "stopped cleanly" in output


async def test_run_without_token_names_env_example(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert ".env.example" in result.stderr
