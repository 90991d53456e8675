"""`/clock 09:00` in the demo: on to the next 09:00 in the shop's zone, where the morning digest
arrives once."""

from __future__ import annotations

import io

from bot.console.chat import OfflineSession
from bot.console.runner import Console
from core.clock import FrozenClock
from core.demo import ensure_demo
from core.settings import Settings
from shopdesk.app import build_app
from tests.conftest import T0
from tests.console.test_console import lines


async def test_the_morning_digest_arrives_at_nine_in_the_console(sqlite_url, tmp_path):
    settings = Settings(_env_file=None, database_url=sqlite_url, send_per_chat_per_second=100)
    app = build_app(settings, session=OfflineSession(), clock=FrozenClock(T0))
    out = io.StringIO()
    try:
        await ensure_demo(app.uows)
        commands = ("/as manager1", "/clock 08:59", "/clock 09:00", "/clock +5m")
        await Console(app, out, tmp_path / "files").run(lines(*commands))
    finally:
        await app.engine.dispose()
    text = out.getvalue()
    # T0 is Sunday 12:00 in Moscow; 08:59 is Monday's, then a minute on.
    before, _, after = text.partition("⏰ 2026-11-23 06:00 UTC (Mon 09:00 MSK)")
    assert "⏰ 2026-11-23 05:59 UTC (Mon 08:59 MSK)" in before and "☀️" not in before
    mine, _, later = after.partition("⏰ 2026-11-23 06:05 UTC")
    assert "bot › ☀️ Доброе утро! Ваш день, 23.11.2026" in mine  # Мария, at the console
    assert "🔔 to Ольга Смирнова › ☀️ Доброе утро!" in mine  # the owner's, with her balance
    assert mine.count("bot › ☀️") == 1 and "☀️" not in later
