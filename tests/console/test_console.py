"""The terminal console, driven through its input and output streams."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.console.chat import OfflineSession
from bot.console.runner import Console
from core.clock import FrozenClock
from core.demo import DEMO_NAME, PERSONAS, ensure_demo
from core.settings import Settings
from shopdesk.app import build_app
from tests.conftest import T0

ROOT = Path(__file__).resolve().parents[2]


async def lines(*items: str):
    for item in items:
        yield item + "\n"


async def drive(sqlite_url: str, tmp_path: Path, *commands: str, who: str = "owner") -> str:
    settings = Settings(_env_file=None, database_url=sqlite_url)
    app = build_app(settings, session=OfflineSession(), clock=FrozenClock(T0))
    out = io.StringIO()
    try:
        await ensure_demo(app.uows)
        await Console(app, out, tmp_path / "files", who=who).run(lines(*commands))
    finally:
        await app.engine.dispose()
    return out.getvalue()


async def test_demo_is_created_once(uows):
    first = await ensure_demo(uows)
    again = await ensure_demo(uows)
    assert first.created and not again.created
    assert first.account_id == again.account_id
    assert {k: a.role_code for k, a in again.actors.items()} == {p.key: p.role for p in PERSONAS}


async def test_buttons_are_numbered_and_pressed_by_number(sqlite_url, tmp_path):
    out = await drive(sqlite_url, tmp_path, "/users", "3", "/quit")
    assert "[3] 🟢 @maria_m · менеджер" in out
    # Pressing 3 opened Мария's card, with the owner's actions on it.
    assert "(edited) Мария Иванова" in out
    assert "[1] ⛔ Заблокировать" in out


async def test_switching_member_and_moving_the_clock(sqlite_url, tmp_path):
    out = await drive(
        sqlite_url, tmp_path, "/as manager2", "/users", "/as ghost", "/clock +1d", "/clock 5"
    )
    assert "── Дмитрий Козлов (manager2) ──" in out
    assert "У вас нет прав" in out
    assert "? members: owner, admin" in out
    assert "⏰ 2026-11-23 09:00 UTC" in out
    assert "? /clock +1d" in out
    assert out.rstrip().endswith("bye")


def test_up_without_token_explains_and_starts_the_console(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/demo.db"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "up"],
        cwd=tmp_path,
        env=env,
        input="/help\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert ".env.example" in result.stderr
    assert "── Ольга Смирнова (owner) ──" in result.stdout
    assert "Ваша роль: владелец" in result.stdout
    demo = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert f"{DEMO_NAME!r} already there" in demo.stdout
