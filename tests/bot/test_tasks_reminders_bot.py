"""Task reminders through the scheduler's job and the outbox: once, in the assignee's language,
with working buttons — across restarts and with two processes on one database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import select

from core.jobs import run_all
from core.notifications.limits import Limits, RateLimiter
from core.notifications.models import OutboxMessage
from core.orders.service import claim_order
from core.settings import Settings
from core.tasks.models import Task
from shopdesk.app import build_app
from tests.support.bot_client import RecordingSession
from tests.support.orders import add_order

ADMIN, PETYA, VASYA = 2000, 3001, 3002
USERNAMES = {ADMIN: "admin", PETYA: "petya", VASYA: "vasya"}
FAST = Limits(1000, 1000, 1000)  # the sender's limits, without real waiting


@pytest.fixture
def client(client):
    def make(user_id: int, **kwargs):
        kwargs.setdefault("username", USERNAMES.get(user_id))
        return client(user_id, **kwargs)

    return make


@pytest.fixture
async def orders(app, uows, shop) -> dict[str, int]:
    app.sender.limiter = RateLimiter(FAST)
    ids = {n: await add_order(uows, shop["owner"].account_id, n) for n in ("A", "B")}
    async with uows() as uow:
        await claim_order(uow, shop["m1"], ids["A"])
    async with uows() as uow:
        await claim_order(uow, shop["m2"], ids["B"])
    return ids


async def tick(app) -> None:
    """What the scheduler does each minute: run the jobs, then the sender drains the outbox."""
    await run_all(app.uows, app.jobs)
    await app.sender.drain()


def reminders(app, chat_id: int) -> list[SendMessage]:
    return [
        r
        for r in app.bot.session.requests
        if isinstance(r, SendMessage)
        and int(r.chat_id) == chat_id
        and r.text.startswith(("⏰ Пора", "⏰ A task"))
    ]


def buttons_of(message: SendMessage) -> list[str]:
    return [b.text for row in message.reply_markup.inline_keyboard for b in row]


async def the_task(uows) -> Task:
    async with uows() as uow:
        return (await uow.session.scalars(select(Task))).one()


async def test_a_due_task_reminds_once_with_working_buttons(client, orders, app, clock, uows):
    assert "task_reminders" in [job.name for job in app.jobs]
    petya = client(PETYA)
    await petya.send("/task A Позвонить клиенту +1h")
    clock.advance(timedelta(minutes=59))
    await tick(app)
    assert reminders(app, PETYA) == []
    clock.advance(timedelta(minutes=1))
    await tick(app)
    await tick(app)
    [reminder] = reminders(app, PETYA)
    assert reminder.text == (
        "⏰ Пора выполнить задачу по заказу №A (срок 22.11.2026 13:00):\nПозвонить клиенту"
    )
    assert buttons_of(reminder) == ["✅ Готово", "+1 ч", "+1 день", "📦 Заказ №A"]
    moved = await petya.click("+1 день")  # on the reminder itself
    assert moved.alert == "Перенесено на 23.11.2026 13:00."
    assert "⏰ №A · до 23.11.2026 13:00 · @petya" in moved.text
    clock.advance(timedelta(hours=23, minutes=59))
    await tick(app)
    assert len(reminders(app, PETYA)) == 1
    clock.advance(timedelta(minutes=1))
    await tick(app)
    assert len(reminders(app, PETYA)) == 2  # postponing re-armed it
    done = await petya.click("✅ Готово")
    assert done.alert == "Задача выполнена." and "✅ №A · выполнена" in done.text
    assert done.buttons == ["↩ Вернуть", "📦 Заказ №A"]  # the author may undo it
    clock.advance(timedelta(days=3))
    await tick(app)
    assert len(reminders(app, PETYA)) == 2  # a closed task never reminds
    undone = await petya.click("↩ Вернуть")
    assert undone.alert == "Задача снова открыта." and "🔴 №A · просрочена с" in undone.text
    await tick(app)
    assert len(reminders(app, PETYA)) == 2  # reminded for that due time already
    assert (await the_task(uows)).status == "open"


async def test_the_reminder_speaks_the_assignees_language(client, orders, app, clock):
    await client(VASYA).send("/lang en")
    await client(ADMIN).send("/task B @vasya Check the payment +30m")
    clock.advance(timedelta(minutes=30))
    await tick(app)
    [reminder] = reminders(app, VASYA)
    assert reminder.text == (
        "⏰ A task on order №B is due now (22.11.2026 12:30):\nCheck the payment"
    )
    assert buttons_of(reminder) == ["✅ Done", "+1 h", "+1 day", "📦 Order №B"]
    assert reminders(app, ADMIN) == []  # the author is not reminded: the assignee is


async def test_reminders_come_at_the_local_due_time_in_any_zone(client, orders, app, clock, uows):
    from sqlalchemy import update

    from core.accounts.models import Account

    async with uows() as uow:
        await uow.session.execute(update(Account).values(timezone="America/New_York"))
        await uow.commit()
    await client(PETYA).send("/task A Call back tomorrow 09:00")  # T0 is 04:00 in New York
    clock.advance(timedelta(hours=28, minutes=59))
    await tick(app)
    assert reminders(app, PETYA) == []
    clock.advance(timedelta(minutes=1))  # 14:00 UTC = 09:00 EST
    await tick(app)
    [reminder] = reminders(app, PETYA)
    assert "(срок 23.11.2026 09:00)" in reminder.text


async def test_a_blocked_member_gets_no_reminder(client, orders, app, clock):
    await client(PETYA).send("/task A Позвонить +1h")
    await client(ADMIN).send("/block @petya")
    clock.advance(timedelta(hours=2))
    await tick(app)
    assert reminders(app, PETYA) == []


async def _second_process(settings: Settings, clock):
    """Another bot process on the same database: its own sender, session and memory."""
    other = build_app(settings, session=RecordingSession(), clock=clock)
    other.sender.limiter = RateLimiter(FAST)
    return other


def _sent_reminders(*apps) -> list[SendMessage]:
    return [m for a in apps for m in reminders(a, PETYA)]


async def test_a_reminder_fires_exactly_once_across_a_restart(
    client, orders, app, clock, sqlite_url, uows
):
    settings = Settings(_env_file=None, database_url=sqlite_url, bot_token=None)
    await client(PETYA).send("/task A Позвонить +1h")
    await client(PETYA).send("/task A Отправить счёт +2h")
    clock.advance(timedelta(hours=1))
    # The first process runs the job, and stops before its sender gets to the outbox.
    await run_all(app.uows, app.jobs)
    await app.engine.dispose()
    restarted = await _second_process(settings, clock)
    try:
        await tick(restarted)  # the job finds nothing new; the sender delivers what is pending
        await tick(restarted)
        assert [m.text.split("\n")[1] for m in _sent_reminders(app, restarted)] == ["Позвонить"]
        # Restarted again after it sent the reminder: nothing is sent twice.
        again = await _second_process(settings, clock)
        try:
            await tick(again)
            clock.advance(timedelta(hours=1))
            # Two processes at once when the second task falls due: one reminder between them.
            await asyncio.gather(tick(restarted), tick(again))
            await asyncio.gather(tick(restarted), tick(again))
            sent = _sent_reminders(app, restarted, again)
            assert [m.text.split("\n")[1] for m in sent] == ["Позвонить", "Отправить счёт"]
        finally:
            await again.engine.dispose()
        async with restarted.uows() as uow:
            rows = list(await uow.session.scalars(select(OutboxMessage)))
        assert [(r.kind, r.status) for r in rows] == [("task_due", "sent")] * 2
    finally:
        await restarted.engine.dispose()


async def test_the_console_shows_the_reminder_when_the_clock_moves(sqlite_url, tmp_path):
    from tests.console.test_console import drive

    out = await drive(
        sqlite_url,
        tmp_path,
        "/neworder",
        "N7",
        "Иван",
        "1",  # Skip the phone (digits press buttons in the console)
        "1500.00",
        "1",  # Skip the comment
        "/task N7 Позвонить клиенту +30m",
        "/clock +30m",
        "/quit",
    )
    assert "✅ Задача добавлена к заказу №N7." in out
    assert "bot › ⏰ Пора выполнить задачу по заказу №N7 (срок 22.11.2026 12:30):" in out
    assert "[1] ✅ Готово   [2] +1 ч   [3] +1 день" in out
