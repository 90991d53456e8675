"""`/clock +1d` in the demo: the scheduled jobs run and their notifications print."""

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


async def test_a_day_later_the_demo_prints_the_renewal_notices(sqlite_url, tmp_path):
    settings = Settings(_env_file=None, database_url=sqlite_url, send_per_chat_per_second=100)
    app = build_app(settings, session=OfflineSession(), clock=FrozenClock(T0))
    out = io.StringIO()
    try:
        await ensure_demo(app.uows)
        commands = ("/services", "/clock +1d", "1", "/clock +1d")
        await Console(app, out, tmp_path / "files").run(lines(*commands))
    finally:
        await app.engine.dispose()
    text = out.getvalue()
    before, _, after = text.partition("⏰ 2026-11-23 09:00 UTC")
    assert "🔴 Онлайн-чат · чат" in before and "❗23.11.2026" in before
    suspended = (
        "🔴 Услуга Онлайн-чат приостановлена: баланса (720,00 ₽) не хватило на продление за "
        "790,00 ₽."
    ).replace(" ₽", "\u00a0₽")
    assert f"bot › {suspended}" in after  # the owner, who is at the console
    assert f"🔔 to Игорь Петров › {suspended}" in after  # the admin opted in to alerts
    assert "bot › ⚠️ Баланс заканчивается." in after
    assert "[1] 💳 Пополнить" in after
    # Pressing Top up under the alert shows the balance and the command to record a payment:
    # the chat's 790 ₽ and the suspended analytics export's 3 000 ₽ retry, less the 720 ₽ held.
    assert "/topup 3070 [номер платежа]" in after
    # The next day repeats nothing: every event was announced once (the day's digest is new).
    assert after.count("приостановлена: баланса") == 2
    next_day = after.split("⏰ 2026-11-24 09:00 UTC")[1]
    assert [line for line in next_day.splitlines() if "›" in line and "☀️" not in line] == []
    assert next_day.strip().endswith("bye")
