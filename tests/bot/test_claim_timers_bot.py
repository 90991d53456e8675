"""Claim timers, shifts and auto-assignment through the bot: the jobs write, the sender sends, in
each member's language; the escalation's Claim and Assign… work; /shift, /start, /users,
/settings and /orders show what the core keeps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.methods import EditMessageText, SendMessage
from sqlalchemy import select

from core.jobs import run_all
from core.members.models import Member
from core.orders.models import Order
from tests.support.orders import add_order

OWNER, ADMIN, PETYA, VASYA = 1000, 2000, 3001, 3002
USERNAMES = {ADMIN: "admin", PETYA: "petya", VASYA: "vasya"}


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    # December 2026: the 7th is a Monday; Moscow is UTC+3; work 9–18, Monday to Friday.
    return datetime(2026, 12, day, hour - 3, minute, tzinfo=UTC)


@pytest.fixture
def client(client):
    def make(user_id: int, **kwargs):
        kwargs.setdefault("username", USERNAMES.get(user_id))
        return client(user_id, **kwargs)

    return make


@pytest.fixture
async def shop(shop, clock):
    clock.set(msk(7, 10))
    return shop


async def tick(app, deliver) -> None:
    await run_all(app.uows, app.jobs)
    await deliver()


def sent(app, chat_id: int, *starts: str) -> list[SendMessage]:
    return [
        r
        for r in app.bot.session.requests
        if isinstance(r, SendMessage) and int(r.chat_id) == chat_id and r.text.startswith(starts)
    ]


def buttons_of(message: SendMessage) -> list[str]:
    return [b.text for row in message.reply_markup.inline_keyboard for b in row]


async def test_an_unclaimed_order_is_reannounced_then_escalated_in_each_language(
    app, shop, client, clock, deliver, uows
):
    assert "claim_timers" in [job.name for job in app.jobs]
    petya, vasya, owner = client(PETYA), client(VASYA), client(OWNER)
    await vasya.send("/lang en")
    assert "🟢 Вы на смене с 07.12.2026 10:00" in (await petya.send("/shift on")).text
    assert "You are on shift" in (await vasya.send("/shift on")).text
    await owner.send("/lang en")
    await add_order(uows, shop["owner"].account_id, "1")
    clock.set(msk(7, 10, 14))
    await tick(app, deliver)
    assert sent(app, PETYA, "⏰") == []
    clock.set(msk(7, 10, 15))
    await tick(app, deliver)
    [ru] = sent(app, PETYA, "⏰")
    assert ru.text.startswith("⏰ Заказ №1 (3") and ru.text.endswith(
        "₽) ждёт уже 15 рабочих минут, и его никто не взял. Кто возьмёт?"
    )
    assert buttons_of(ru) == ["✋ Взять"]
    [en] = sent(app, VASYA, "⏰")
    assert en.text.startswith("⏰ Order №1 (") and "has waited 15 working minutes" in en.text
    assert sent(app, OWNER, "🚨") == [] and sent(app, ADMIN, "🚨") == []
    clock.set(msk(7, 10, 29))
    await tick(app, deliver)
    assert len(sent(app, PETYA, "⏰")) == 1  # once
    clock.set(msk(7, 10, 30))
    await tick(app, deliver)
    await tick(app, deliver)
    [escalated] = sent(app, OWNER, "🚨")
    assert "is still unclaimed after 30 working minutes" in escalated.text
    assert buttons_of(escalated) == ["✋ Claim", "👤 Assign…"]
    assert sent(app, ADMIN, "🚨") == []  # the admin did not opt in to alerts
    picker = await owner.click("👤 Assign…")
    assert "@petya" in picker.buttons
    card = await owner.click("@petya")
    assert card.alert == "Done."
    await deliver()
    # The re-announcements are edited to say who took the order, each in its own language.
    edits = {
        int(r.chat_id): r.text
        for r in app.bot.session.requests
        if isinstance(r, EditMessageText) and r.chat_id is not None
    }
    assert "@petya" in edits[PETYA] and edits[PETYA].startswith("✅ Заказ №1")
    assert "@petya" in edits[VASYA] and edits[VASYA].startswith("✅ Order №1")
    assert edits[OWNER].startswith("<b>Order №1</b>")  # the owner's card stays as it is
    async with uows() as uow:
        order = (await uow.session.scalars(select(Order))).one()
        petya_id = await uow.session.scalar(select(Member.id).where(Member.telegram_id == PETYA))
    assert order.assignee_id == petya_id and order.claim_step == 2


async def test_the_clock_waits_for_opening(app, shop, client, clock, deliver, uows):
    await client(PETYA).send("/shift on")
    clock.set(msk(7, 17, 55))
    await add_order(uows, shop["owner"].account_id, "1")
    clock.set(msk(8, 8, 0))
    await tick(app, deliver)
    assert sent(app, PETYA, "⏰") == []
    clock.set(msk(8, 9, 10))
    await tick(app, deliver)
    [message] = sent(app, PETYA, "⏰")
    assert "ждёт уже 15 рабочих минут" in message.text


async def test_claim_from_the_escalation(app, shop, client, clock, deliver, uows):
    await add_order(uows, shop["owner"].account_id, "1")
    clock.set(msk(7, 10, 30))
    await tick(app, deliver)
    [escalated] = sent(app, OWNER, "🚨")
    assert escalated.text.startswith("🚨 Заказ №1 (3")
    assert escalated.text.endswith("₽) никто не взял за 30 рабочих минут.")
    reply = await client(OWNER).click("✋ Взять")
    assert reply.alert == "Заказ №1 теперь ваш."
    async with uows() as uow:
        order = (await uow.session.scalars(select(Order))).one()
    assert order.assignee_id == shop["owner"].member_id


async def test_orders_shows_the_overdue_count_and_marks_rows(app, shop, client, clock, uows):
    await add_order(uows, shop["owner"].account_id, "1")
    clock.set(msk(7, 10, 10))
    await add_order(uows, shop["owner"].account_id, "2")
    clock.set(msk(7, 10, 20))
    admin = client(ADMIN)
    await admin.send("/orders")
    page = await admin.click("Свободные")
    assert "⏰ 1 невзятый заказ ждёт дольше положенного." in page.text
    marked = [b for b in page.buttons if b.startswith("⏰")]
    assert len(marked) == 1 and "№1" in marked[0]
    await client(VASYA).send("/lang en")
    english = await client(VASYA).send("/orders")
    assert "⏰ 1 unclaimed order is past its claim time." in english.text


async def test_shift_button_in_start_and_who_is_on_shift_in_users(app, shop, client, uows):
    petya = client(PETYA)
    start = await petya.send("/start")
    assert start.buttons == ["🟢 Начать смену"]
    on = await petya.click("🟢 Начать смену")
    assert "Вы на смене" in on.text and on.buttons == ["🔴 Закончить смену"]
    users = await client(ADMIN).send("/users")
    assert "💼 Сейчас на смене: @petya" in users.text
    assert "🟢 @petya · менеджер · 💼" in users.buttons
    assert "🟢 @vasya · менеджер" in users.buttons
    off = await petya.click("🔴 Закончить смену")
    assert "Вы не на смене" in off.text
    assert "Сейчас на смене никого нет." in (await client(ADMIN).send("/users")).text
    assert "Пример: /shift on" in (await petya.send("/shift maybe")).text


async def test_owner_sets_distribution_and_new_orders_go_to_the_shift(
    app, shop, client, deliver, uows
):
    owner = client(OWNER)
    shown = await owner.send("/settings")
    assert "Новые заказы: объявление — берёт тот, кто успел первым" in shown.text
    assert "Рабочие часы: 09:00–18:00, пн, вт, ср, чт, пт" in shown.text
    saved = await owner.send("/settings distribution auto")
    assert "Новые заказы: автоматически" in saved.text
    assert "заказов на менеджера: 5" in (await owner.send("/settings cap 5")).text
    assert ": 10 рабочих минут" in (await owner.send("/settings claim 10")).text
    hours = await owner.send("/settings work 10-19 1-6")
    assert "Рабочие часы: 10:00–19:00, пн, вт, ср, чт, пт, сб" in hours.text
    assert "да" in (await owner.send("/settings shiftoff on")).text
    refused = await owner.send("/settings cap 0")
    assert "от 1 до 1000" in refused.text
    await client(VASYA).send("/shift on")
    await add_order(uows, shop["owner"].account_id, "1")
    await deliver()
    [told] = sent(app, VASYA, "📥")
    assert told.text.startswith("📥 Заказ №1 (3")
    assert told.text.endswith("₽) ваш: у вас было меньше всего открытых заказов.")
    assert buttons_of(told) == ["Открыть"]
    await client(VASYA).click("Открыть")
    log = await client(VASYA).click("📜 История")
    assert "назначен автоматически: меньше всего открытых заказов" in log.text


async def test_the_report_shows_the_speed_in_each_language(app, shop, client, clock, uows):
    from core.orders.service import change_status, claim_order

    order = await add_order(uows, shop["owner"].account_id, "1")
    clock.set(msk(7, 10, 12))
    async with uows() as uow:
        await claim_order(uow, shop["m1"], order)
    clock.set(msk(7, 13, 12))
    async with uows() as uow:
        await change_status(uow, shop["m1"], order, "completed")
    admin = client(ADMIN)
    ru = await admin.send("/report")
    assert "<b>Скорость</b> (медианы): время до взятия (рабочее) · от взятия до выполнения" in (
        ru.text
    )
    assert "@petya: 12 мин · 3 ч" in ru.text
    assert "@vasya" not in ru.text.split("Скорость")[1]  # nothing to measure: no line
    await admin.send("/lang en")
    en = await admin.send("/report")
    assert "@petya: 12 min · 3 h" in en.text


async def test_many_waiting_orders_come_as_one_message(app, shop, client, clock, deliver, uows):
    await client(PETYA).send("/shift on")
    for n in range(12):
        await add_order(uows, shop["owner"].account_id, f"M{n}")
    clock.set(msk(7, 10, 22))  # a 22-minute claim time: "рабочие минуты"
    from sqlalchemy import update

    from core.accounts.models import Account

    async with uows() as uow:
        await uow.session.execute(update(Account).values(claim_minutes=22))
        await uow.commit()
    await tick(app, deliver)
    [one] = sent(app, PETYA, "⏰")
    assert one.text == (
        "⏰ 12 заказов ждут уже 22 рабочие минуты, и их никто не взял. Смотрите /orders → "
        "Свободные."
    )
    await client(OWNER).send("/lang en")
    clock.set(msk(7, 10, 44))
    await tick(app, deliver)
    [escalated] = sent(app, OWNER, "🚨")
    assert escalated.text == (
        "🚨 12 orders are still unclaimed after 44 working minutes. See /orders → Unassigned."
    )
