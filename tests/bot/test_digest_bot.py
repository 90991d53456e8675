"""The morning digest on a frozen clock: at the account's hour on working days, once a member a
local day (a restart and a second run send nothing more), held by quiet hours, one catch-up after
downtime, silent when there is nothing to say, the owner's money only for the owner, /digest
off — in Russian and English."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import select, update

from core.accounts.models import Account
from core.jobs import run_all
from core.members.models import Member
from core.notifications.limits import Limits, RateLimiter
from core.orders.models import OrderStatus
from core.orders.service import change_status, claim_order
from core.settings import Settings
from shopdesk.app import build_app
from tests.support.bot_client import RecordingSession
from tests.support.orders import add_order

OWNER, ADMIN, PETYA, VASYA = 1000, 2000, 3001, 3002
FAST = Limits(1000, 1000, 1000)
# Monday 23 November 2026 in Moscow (UTC+3); T0 is the Sunday before, 12:00 local.
MONDAY_0859 = datetime(2026, 11, 23, 5, 59, tzinfo=UTC)
MONDAY_0900 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


async def tick(app) -> None:
    """What the scheduler does: run the jobs, then the sender drains the outbox."""
    await run_all(app.uows, app.jobs)
    await app.sender.drain()


def digests(app, chat_id: int) -> list[str]:
    return [
        r.text
        for r in app.bot.session.requests
        if isinstance(r, SendMessage) and int(r.chat_id) == chat_id and r.text.startswith("☀️ <b>")
    ]


@pytest.fixture
async def sunday(app, uows, shop, client) -> dict[str, int]:
    """Sunday: Petya takes A and B and completes B (3 000 ₽); C waits unclaimed; Petya's tasks:
    one due at 13:00 Sunday (overdue by Monday), one due on Monday at 15:00."""
    app.sender.limiter = RateLimiter(FAST)
    account_id = shop["owner"].account_id
    ids = {n: await add_order(uows, account_id, n) for n in ("A", "B", "C")}
    for number in ("A", "B"):
        async with uows() as uow:
            await claim_order(uow, shop["m1"], ids[number])
    async with uows() as uow:
        await change_status(uow, shop["m1"], ids["B"], OrderStatus.COMPLETED)
    petya = client(PETYA, username="petya")
    await petya.send("/task A Позвонить клиенту +1h")
    await petya.send("/task A Отправить счёт завтра 15:00")
    await app.sender.drain()
    async with uows() as uow:  # the platform is prepaid through the year's end
        await uow.session.execute(update(Account).values(paid_through=date(2026, 12, 31)))
        await uow.commit()
    return ids


async def test_the_digest_comes_at_nine_once_with_the_day_in_it(app, sunday, clock):
    await tick(app)  # Sunday 12:00: not a working day
    clock.set(MONDAY_0859)
    await tick(app)
    assert digests(app, PETYA) == [] and digests(app, OWNER) == []
    clock.set(MONDAY_0900)
    await tick(app)
    await tick(app)  # the job runs again: nothing more
    [petya] = digests(app, PETYA)
    assert petya == (
        "☀️ <b>Доброе утро! Ваш день, 23.11.2026</b>\n\n"
        "📦 У вас 1 открытый заказ (самый старый: №A, с 22.11.2026 12:00)\n"
        "🆕 1 заказ ждёт, пока его возьмут (самый старый: №C, с 22.11.2026 12:00)\n"
        "✅ Задачи: 1 просрочена, 1 на сегодня — /tasks\n"
        "📊 Вчера: взято 2 заказа, выполнен 1, выручка 3\xa0000,00\xa0₽"
    )
    [vasya] = digests(app, VASYA)  # nothing of his own, but an order waits to be claimed
    assert "🆕 1 заказ ждёт" in vasya and "📦" not in vasya and "Вчера" not in vasya
    [owner] = digests(app, OWNER)
    assert "💰 Баланс 0,00\xa0₽: ничего не продлевается автоматически" in owner
    assert "🗓 ShopDesk оплачен до 31.12.2026 — /tariff" in owner
    assert "💰" not in petya and "💰" not in vasya and "💰" not in digests(app, ADMIN)[0]


async def test_a_restart_sends_no_second_digest(app, sunday, clock, sqlite_url):
    clock.set(MONDAY_0900)
    await tick(app)
    settings = Settings(_env_file=None, database_url=sqlite_url, bot_token=None)
    again = build_app(settings, session=RecordingSession(), clock=clock)  # the restarted process
    again.sender.limiter = RateLimiter(FAST)
    try:
        clock.advance(timedelta(minutes=5))
        await tick(again)
        await tick(app)
        assert digests(again, PETYA) == [] and len(digests(app, PETYA)) == 1
        clock.set(MONDAY_0900 + timedelta(days=1))  # Tuesday: the next one
        await tick(again)
        assert len(digests(again, PETYA)) == 1
    finally:
        await again.engine.dispose()


async def test_no_digest_on_a_day_off(app, sunday, clock, uows, client):
    saturday = MONDAY_0900 + timedelta(days=5)
    clock.set(saturday)
    await tick(app)
    assert digests(app, PETYA) == []
    async with uows() as uow:  # a shop that works on Saturdays
        await uow.session.execute(update(Account).values(work_days="123456"))
        await uow.commit()
    await tick(app)
    assert len(digests(app, PETYA)) == 1


async def test_quiet_hours_hold_the_digest(app, sunday, clock, client):
    owner = client(OWNER)
    await owner.send("/settings quiet 22-10")
    clock.set(MONDAY_0900)
    await tick(app)
    assert digests(app, PETYA) == []  # written, held until 10:00
    clock.advance(timedelta(minutes=59))
    await tick(app)
    assert digests(app, PETYA) == []
    clock.advance(timedelta(minutes=1))
    await tick(app)
    assert len(digests(app, PETYA)) == 1


async def test_after_downtime_one_digest_not_one_per_missed_day(app, sunday, clock):
    clock.set(MONDAY_0900 + timedelta(days=2, hours=4))  # down since Sunday; Wednesday 13:00
    await tick(app)
    await tick(app)
    [petya] = digests(app, PETYA)
    assert "Ваш день, 25.11.2026" in petya
    clock.set(MONDAY_0900 + timedelta(days=2, hours=10))  # 19:00: past working hours
    await tick(app)
    assert len(digests(app, PETYA)) == 1


async def test_a_late_start_after_working_hours_sends_nothing_that_day(app, sunday, clock, uows):
    clock.set(MONDAY_0900 + timedelta(hours=10))  # Monday 19:00: the day's work is over
    await tick(app)
    assert digests(app, PETYA) == []
    clock.set(MONDAY_0900 + timedelta(days=1))
    await tick(app)
    assert "Ваш день, 24.11.2026" in digests(app, PETYA)[0]


async def test_nothing_to_say_nothing_sent(app, shop, clock, uows):
    app.sender.limiter = RateLimiter(FAST)
    clock.set(MONDAY_0900)
    await tick(app)
    # No orders, no tasks, nothing renews, nothing prepaid: not even the owner hears a word.
    assert [digests(app, who) for who in (OWNER, ADMIN, PETYA)] == [[], [], []]
    async with uows() as uow:  # marked all the same: the job does not look again today
        sent_on = await uow.session.scalar(
            select(Member.digest_sent_on).where(Member.telegram_id == PETYA)
        )
    assert sent_on.isoformat() == "2026-11-23"


async def test_digest_off_stops_it_and_on_brings_it_back(app, sunday, clock, client):
    petya = client(PETYA)
    shown = await petya.send("/digest")
    assert shown.text.startswith(
        "☀️ Утренняя сводка включена: каждый рабочий день (пн, вт, ср, чт, пт) в 09:00."
    )
    assert "/settings digest" not in shown.text  # the hour is the owner's
    off = await petya.send("/digest off")
    assert off.text.startswith("Утренняя сводка выключена.") and "/digest on" in off.text
    clock.set(MONDAY_0900)
    await tick(app)
    assert digests(app, PETYA) == [] and len(digests(app, VASYA)) == 1
    await petya.send("/digest on")
    clock.set(MONDAY_0900 + timedelta(days=1))
    await tick(app)
    assert len(digests(app, PETYA)) == 1


async def test_the_owner_moves_the_hour(app, sunday, clock, client):
    owner = client(OWNER)
    done = await owner.send("/settings digest 11")
    assert "Утренняя сводка в: 11:00" in done.text
    refused = await client(PETYA).send("/settings digest 7")
    assert "владел" in refused.text.lower()
    clock.set(MONDAY_0900 + timedelta(hours=1, minutes=59))
    await tick(app)
    assert digests(app, PETYA) == []
    clock.advance(timedelta(minutes=1))
    await tick(app)
    assert len(digests(app, PETYA)) == 1


async def test_the_digest_in_english_with_plurals(app, sunday, clock, client, uows, shop):
    petya = client(PETYA)
    await petya.send("/lang en")
    await client(OWNER).send("/lang en")
    more = await add_order(uows, shop["owner"].account_id, "D")
    async with uows() as uow:
        await claim_order(uow, shop["m1"], more)
    shown = await petya.send("/digest")
    assert shown.text.startswith(
        "☀️ The morning digest is on: every working day (Mon, Tue, Wed, Thu, Fri) at 09:00."
    )
    clock.set(MONDAY_0900)
    await tick(app)
    [text] = digests(app, PETYA)
    assert text == (
        "☀️ <b>Good morning! Your day, 23.11.2026</b>\n\n"
        "📦 You have 2 open orders (the oldest: №A, since 22.11.2026 12:00)\n"
        "🆕 1 order waits to be claimed (the oldest: №C, since 22.11.2026 12:00)\n"
        "✅ Tasks: 1 overdue, 1 due today — /tasks\n"
        "📊 Yesterday: 3 orders taken, 1 completed, revenue 3,000.00\xa0₽"
    )
    [owner] = digests(app, OWNER)
    assert "💰 Balance 0.00\xa0₽: nothing renews automatically" in owner
    assert "🗓 ShopDesk is paid through 31.12.2026 — /tariff" in owner


async def test_russian_plural_forms(app, sunday, clock, uows, shop):
    for number in ("D", "E", "F", "G"):
        order_id = await add_order(uows, shop["owner"].account_id, number)
        async with uows() as uow:
            await claim_order(uow, shop["m2"], order_id)
    clock.set(MONDAY_0900)
    await tick(app)
    [vasya] = digests(app, VASYA)
    assert "📦 У вас 4 открытых заказа" in vasya and "взято 4 заказа" in vasya
    assert "выполнен" not in vasya  # nothing completed: no figure of it
