"""The demo through the console's streams: claiming, alerts for others, files on disk."""

from __future__ import annotations

from tests.console.test_console import drive


async def test_a_manager_claims_a_free_order_by_its_button_and_another_loses_it(
    sqlite_url, tmp_path
):
    commands = ("/orders", "2", "4", "1", "/as manager1", "/claim 10200", "/orders", "2")
    out = await drive(sqlite_url, tmp_path, *commands, who="manager2")
    # The Unassigned tab lists the newest free order, pressed by its number, then ✋ Take.
    assert "[4] 🆕 №10200 ·" in out
    assert "(edited) Заказ №10200 · 🆕 новый" in out
    assert "[1] ✋ Взять" in out
    assert "(edited) Заказ №10200 · 🔄 в работе" in out
    assert "Исполнитель: @dmitry_m" in out
    assert "(Заказ №10200 теперь ваш.)" in out
    # Мария comes second and learns who has it; the order left the free list.
    assert "Не успели: заказ №10200 уже взял @dmitry_m." in out
    free_list = out.rsplit("(edited) Заказы · Свободные", 1)[1]
    assert "№10200" not in free_list and "№10199" in free_list


async def test_claim_by_command_takes_the_order_into_work(sqlite_url, tmp_path):
    out = await drive(sqlite_url, tmp_path, "/claim 10199", "1", "/claim 10199", who="manager3")
    assert "bot › Заказ №10199 теперь ваш." in out
    # Its Open button shows the card, now in progress with Елена as the assignee.
    assert "(edited) Заказ №10199 · 🔄 в работе" in out
    assert "Исполнитель: @elena_m" in out
    assert "bot › Заказ №10199 уже ваш." in out


async def test_a_day_later_the_suspension_prints_for_the_owner_and_the_admin(sqlite_url, tmp_path):
    out = await drive(sqlite_url, tmp_path, "/clock +1d", who="manager1")
    after = out.split("⏰ 2026-11-23 09:00 UTC")[1]
    suspended = "🔴 Услуга Онлайн-чат приостановлена"
    assert f"🔔 to Ольга Смирнова › {suspended}" in after
    assert f"🔔 to Игорь Петров › {suspended}" in after
    # The manager at the console is not told about the account's money.
    assert f"bot › {suspended}" not in out


async def test_reports_chart_and_csv_are_saved_and_their_paths_printed(sqlite_url, tmp_path):
    out = await drive(sqlite_url, tmp_path, "/report", "7", "/report")
    files = tmp_path / "files"
    chart = files / "report.png"
    # The second chart is the first one sent again by its file_id: saved under its name too.
    assert out.count(f"bot › 📎 {chart} График продаж") == 2
    assert chart.read_bytes().startswith(b"\x89PNG")
    # The demo's completed orders give the report figures.
    assert "@maria_m" in out and "Итого" in out
    [export] = files.glob("orders_*.csv")
    assert f"bot › 📎 {export}" in out
    rows = export.read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) > 10 and "10196" in export.read_text(encoding="utf-8-sig")


async def test_a_task_reminder_prints_for_its_assignee_the_next_day(sqlite_url, tmp_path):
    out = await drive(sqlite_url, tmp_path, "/tasks", "/clock +1d", who="manager1")
    before, _, after = out.partition("⏰ 2026-11-23 09:00 UTC")
    assert "⏰ Срок задачи" not in before
    assert after.count("bot › ⏰") == 1
    assert "23.11.2026 08:00" in after  # 20 hours after the demo was made, Moscow time
