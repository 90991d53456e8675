"""Tasks through the bot: the card's Add dialog, /task, /tasks, row buttons, logs, reassigning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram.methods import SendMessage
from aiogram.types import Sticker
from sqlalchemy import select, update

from core.accounts.models import Account
from core.notifications.limits import Limits, RateLimiter
from core.orders.service import claim_order
from core.tasks.models import Task
from tests.support.orders import add_order

OWNER, ADMIN, PETYA, VASYA = 1000, 2000, 3001, 3002
USERNAMES = {OWNER: "owner", ADMIN: "admin", PETYA: "petya", VASYA: "vasya"}


@pytest.fixture
def client(client):
    def make(user_id: int, **kwargs):
        kwargs.setdefault("username", USERNAMES.get(user_id))
        return client(user_id, **kwargs)

    return make


@pytest.fixture
async def orders(app, uows, shop) -> dict[str, int]:
    """A: petya's, B: vasya's, C: unassigned."""
    app.sender.limiter = RateLimiter(Limits(1000, 1000, 1000))  # no real waiting in tests
    ids = {n: await add_order(uows, shop["owner"].account_id, n) for n in ("A", "B", "C")}
    async with uows() as uow:
        await claim_order(uow, shop["m1"], ids["A"])
    async with uows() as uow:
        await claim_order(uow, shop["m2"], ids["B"])
    return ids


async def all_tasks(uows) -> list[Task]:
    async with uows() as uow:
        return list(await uow.session.scalars(select(Task).order_by(Task.id)))


def sent_to(app, chat_id: int) -> list[SendMessage]:
    return [
        r
        for r in app.bot.session.requests
        if isinstance(r, SendMessage) and int(r.chat_id) == chat_id
    ]


def buttons_of(message: SendMessage) -> list[str]:
    return [b.text for row in message.reply_markup.inline_keyboard for b in row]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---- the card's Tasks → Add ------------------------------------------------------------------


async def test_add_from_the_card_in_a_short_dialog(client, orders, uows):
    petya = client(PETYA)
    card = await petya.send("/order A")
    assert "📋 Задачи (0)" in card.buttons
    screen = await petya.click("Задачи (0)")
    assert "По этому заказу задач пока нет." in screen.text
    assert screen.buttons == ["➕ Добавить", "« Заказ"]
    ask = await petya.click("Добавить")
    assert ask.text.startswith("Новая задача по заказу №A. Что нужно сделать?")
    ask_due = await petya.send("Позвонить клиенту, уточнить адрес")
    assert "Например: завтра · завтра 15:00 · в пятницу · через 2 часа" in ask_due.text
    assert ask_due.buttons == ["Без срока ▶", "✖ Отмена"]
    done = await petya.send("завтра 15:00")
    assert done.texts[0] == "Срок: 23.11.2026 15:00"
    assert done.texts[1] == (
        "✅ Задача добавлена к заказу №A.\n"
        "⏰ №A · до 23.11.2026 15:00 · @petya\n    Позвонить клиенту, уточнить адрес"
    )
    assert done.buttons == ["✅ Готово", "+1 ч", "+1 день", "📦 Заказ №A"]
    [task] = await all_tasks(uows)
    assert task.due_at == utc(2026, 11, 23, 12) and task.assignee_id == task.author_id
    card = await petya.send("/order A")
    assert "Открытых задач: 1" in card.text and "📋 Задачи (1)" in card.buttons
    again = await petya.send("ещё текст")  # the dialog is over
    assert "не понимаю" in again.text.lower()


async def test_a_colleagues_order_takes_no_tasks_from_colleagues(client, orders, uows):
    vasya = client(VASYA)
    card = await vasya.send("/order A")
    assert "🔒 Это заказ @petya" in card.text and card.buttons == ["📋 Задачи (0)", "« Заказы"]
    screen = await vasya.click("Задачи")
    assert screen.buttons == ["« Заказ"]  # no Add on a colleague's order
    refused = await vasya.send("/task A Передать Пете образцы")
    assert refused.text == (
        "Заказ №A ведёт @petya: добавлять к нему задачи могут только он и администратор."
    )
    assert await all_tasks(uows) == []


async def test_cancel_and_bad_answers_change_nothing(client, orders, uows):
    petya = client(PETYA)
    await petya.send("/order A")
    await petya.click("Задачи")
    await petya.click("Добавить")
    sticker = Sticker(
        file_id="s", file_unique_id="s", type="regular", width=1, height=1,
        is_animated=False, is_video=False,
    )  # fmt: skip
    assert "Ответьте текстом" in (await petya.send(sticker=sticker)).text
    too_long = await petya.send("я" * 1001)
    assert too_long.text == "Задача слишком длинная (символов: 1001), можно не больше 1000."
    await petya.send("Позвонить")
    bad = await petya.send("когда-нибудь")
    assert bad.text == (
        "Не удалось понять срок «когда-нибудь». Напишите так: завтра, завтра 15:00, в пятницу, "
        "через 2 часа, 25.12, 25.12.2026 18:00, 18.00, вечером или +3д."
    )
    past = await petya.send("21.11 10:00")
    assert past.text.startswith("Это время уже прошло: 21.11.2026 10:00.")
    cancelled = await petya.send("/cancel")
    assert cancelled.text == "Отменено: задача не добавлена."
    await petya.send("/order A")
    await petya.click("Задачи")
    await petya.click("Добавить")
    by_button = await petya.click("Отмена")
    assert by_button.text == "Отменено: задача не добавлена."
    assert await all_tasks(uows) == []


async def test_an_admin_picks_who_does_it_and_they_are_told_in_their_language(
    client, orders, uows, app, shop
):
    await client(VASYA).send("/lang en")
    admin = client(ADMIN)
    await admin.send("/order B")
    await admin.click("Задачи")
    await admin.click("Добавить")
    await admin.send("Проверить оплату")
    picker = await admin.send("+2h")
    assert picker.text == "Кто выполняет?"
    assert picker.buttons == ["Я (@admin)", "@petya", "@vasya", "Owner", "✖ Отмена"]
    typed = await admin.send("@vasya")
    assert typed.text == "Выберите исполнителя кнопками выше или нажмите «Отмена»."
    done = await admin.click("@vasya")
    assert "✅ Задача добавлена к заказу №B." in done.text and "От: @admin" in done.text
    await app.sender.drain()
    [notice] = sent_to(app, VASYA)[-1:]
    assert notice.text == (
        "📌 @admin gave you a task on order №B, due 22.11.2026 14:00:\nПроверить оплату"
    )
    assert buttons_of(notice) == ["✅ Done", "📦 Order №B"]
    [task] = await all_tasks(uows)
    assert (task.author_id, task.assignee_id) == (shop["admin"].member_id, shop["m2"].member_id)


# ---- /task -----------------------------------------------------------------------------------


async def test_task_command_reads_the_due_at_the_end(client, orders, uows):
    petya = client(PETYA)
    reply = await petya.send("/task A Позвонить клиенту tomorrow 15:00")
    assert "⏰ №A · до 23.11.2026 15:00 · @petya\n    Позвонить клиенту" in reply.text
    reply = await petya.send("/task A Обновить прошивку до 2.10")
    assert "без срока" in reply.text and "Обновить прошивку до 2.10" in reply.text
    reply = await petya.send("/task #A Отправить счёт +2ч")
    assert "до 22.11.2026 14:00" in reply.text
    assert [(t.text, t.due_at) for t in await all_tasks(uows)] == [
        ("Позвонить клиенту", utc(2026, 11, 23, 12)),
        ("Обновить прошивку до 2.10", None),
        ("Отправить счёт", utc(2026, 11, 22, 11)),
    ]


async def test_task_command_bad_input_gets_clear_answers_and_changes_nothing(client, orders, uows):
    petya = client(PETYA)
    usage = (await petya.send("/task")).text
    assert usage.startswith("Формат: /task 1042 Позвонить клиенту завтра 15:00")
    assert "в пятницу · через 2 часа · 25.12 18:00 · 18.00 · +3д" in usage
    answers = {
        "/task A": "Напишите, что нужно сделать",
        "/task A завтра 15:00": "Напишите, что нужно сделать",
        "/task A Позвонить 31.02 10:00": "Не удалось понять срок «31.02 10:00»",
        "/task A Позвонить +2x": "Не удалось понять срок «+2x»",
        "/task A Позвонить 21.11 10:00": "Это время уже прошло: 21.11.2026 10:00",
        "/task A Позвонить +9999d": "Слишком далеко",
        "/task Z Позвонить": "В вашем аккаунте нет заказа №Z",
        "/task A @vasya Позвонить": "Поручить задачу другому может только администратор.",
        "/task A " + "я" * 1001: "Задача слишком длинная",
    }
    for command, expected in answers.items():
        assert expected in (await petya.send(command)).text, command
    assert await all_tasks(uows) == []


async def test_english_answers_and_russian_due_words_both_work(client, orders, uows):
    petya = client(PETYA)
    await petya.send("/lang en")
    bad = await petya.send("/task A Call the customer +2x")
    assert bad.text == (
        "Can't read the due time “+2x”. Write it like this: tomorrow, tomorrow 15:00, "
        "on friday, in 2 hours, 25.12, 25.12.2026 18:00, 18.00, in the evening or +3d."
    )
    usage = (await petya.send("/task")).text
    assert "tomorrow · tomorrow 15:00 · on friday · in 2 hours · 25.12 18:00 · 18.00 · +3d" in usage
    ok = await petya.send("/task A Call the customer завтра 10:00")
    assert ok.text.startswith("✅ Task added to order №A.\n⏰ №A · due 23.11.2026 10:00")
    assert ok.buttons == ["✅ Done", "+1 h", "+1 day", "📦 Order №A"]


async def test_due_times_are_read_and_shown_in_the_accounts_zone(client, orders, uows, shop):
    async with uows() as uow:
        await uow.session.execute(
            update(Account)
            .where(Account.id == shop["owner"].account_id)
            .values(timezone="Asia/Vladivostok")
        )
        await uow.commit()
    petya = client(PETYA)
    # T0 is 19:00 on 22.11 in Vladivostok (UTC+10)
    reply = await petya.send("/task A Позвонить завтра 10:00")
    assert "до 23.11.2026 10:00" in reply.text
    late = await petya.send("/task A Позвонить сегодня 18:00")
    assert "Это время уже прошло: 22.11.2026 18:00" in late.text
    [task] = await all_tasks(uows)
    assert task.due_at == utc(2026, 11, 23, 0)


# ---- /tasks ----------------------------------------------------------------------------------


async def test_tasks_tabs_overdue_first_rows_link_to_orders(client, orders, clock, uows):
    petya = client(PETYA)
    await petya.send("/task A Позже +3h")
    await petya.send("/task C Без срока")
    await petya.send("/task A Срочно +1h")
    clock.advance(timedelta(hours=2))
    reply = await petya.send("/tasks")
    assert reply.buttons[:2] == ["• Мои", "Просроченные"] and "Все" not in reply.buttons
    assert reply.text == (
        "<b>Задачи</b> · Мои · стр. 1 из 1\n\n"
        "1. 🔴 №A · просрочена с 22.11.2026 13:00 · @petya\n    Срочно\n\n"
        "2. ⏰ №A · до 22.11.2026 15:00 · @petya\n    Позже\n\n"
        "3. ▫️ №C · без срока · @petya\n    Без срока"
    )
    assert reply.buttons[2:6] == ["1 · №A", "✅ Готово", "+1 ч", "+1 день"]
    overdue = await petya.click("Просроченные")
    assert "1. 🔴 №A" in overdue.text and "Позже" not in overdue.text
    card = await petya.click("1 · №A")
    assert card.text.startswith("<b>Заказ №A</b>")
    await petya.send("/tasks")
    done = await petya.click("✅ Готово")
    assert done.alert == "Задача выполнена."
    assert "Срочно" not in done.text and done.text.count("\n\n") == 2
    later = await petya.click("+1 день")  # the first row is "Позже" now
    assert later.alert == "Перенесено на 23.11.2026 15:00."
    assert "2. ▫️ №C" in later.text  # still sorted: the dated task first
    admin = await client(ADMIN).send("/tasks")
    assert admin.buttons[:3] == ["• Мои", "Просроченные", "Все"]
    every = await client(ADMIN).click("Все")
    assert "Позже" in every.text and "Без срока" in every.text and "Срочно" not in every.text


async def test_tasks_are_paginated_by_five(client, orders, clock):
    petya = client(PETYA)
    for n in range(7):
        await petya.send(f"/task A Задача {n} +{n + 1}h")
    first = await petya.send("/tasks")
    assert "стр. 1 из 2" in first.text and "5. ⏰" in first.text and "6." not in first.text
    assert "◀" not in first.buttons
    second = await petya.click("▶")
    assert "стр. 2 из 2" in second.text and "6. ⏰" in second.text and "7. ⏰" in second.text
    assert "Задача 6" in second.text and "Задача 0" not in second.text
    closed = await petya.click("✅ Готово")  # on page 2
    assert "стр. 2 из 2" in closed.text and "Задача 5" not in closed.text
    last = await petya.click("✅ Готово")  # the last task of page 2: page 1 is shown
    assert "стр. 1 из 1" in last.text and "Задача 0" in last.text


async def test_reopen_is_for_the_author_or_an_admin(client, orders, uows):
    admin, petya = client(ADMIN), client(PETYA)
    await admin.send("/task A @petya Привезти образцы")
    [task] = await all_tasks(uows)
    await petya.send("/tasks")
    await petya.click("✅ Готово")
    await petya.send("/order A")
    screen = await petya.click("Задачи")
    assert "✅ №A · выполнена 22.11.2026 12:00 · @petya" in screen.text
    assert "↩ Вернуть" not in screen.buttons
    forged = await petya.press(f"tk:re:{task.id}:o:m:0:0")
    assert forged.alert == "Вернуть задачу в работу может только её автор или администратор."
    await admin.send("/order A")
    mine = await admin.click("Задачи (0)")
    assert mine.buttons[:2] == ["1.", "↩ Вернуть"]
    back = await admin.click("↩ Вернуть")
    assert back.alert == "Задача снова открыта." and "⏰" not in back.text
    assert "▫️ №A · без срока · @petya" in back.text
    assert (await all_tasks(uows))[0].status == "open"


async def test_other_peoples_tasks_take_no_forged_presses(client, orders, uows, shop):
    await client(PETYA).send("/task A Позвонить +1h")
    [task] = await all_tasks(uows)
    vasya = client(VASYA)
    for op in ("done", "h", "d"):
        reply = await vasya.press(f"tk:{op}:{task.id}:1:m:0:0")
        assert reply.alert.startswith("Эта задача теперь у @petya:"), op
    reply = await vasya.press(f"tk:as:{task.id}:1:m:0:{shop['m2'].member_id}")
    assert reply.alert == "Поручить задачу другому может только администратор."
    reply = await vasya.press("tl:a:0")
    assert reply.alert == "Задачи всех видят только администраторы."
    gone = await vasya.press("tk:done:999999:1:m:0:0")
    assert gone.alert == "Этой задачи больше нет. Откройте /tasks заново."
    stored = (await all_tasks(uows))[0]
    assert (stored.status, stored.due_at, stored.assignee_id) == (
        "open",
        task.due_at,
        task.assignee_id,
    )


async def test_task_events_in_the_order_log_and_history(client, orders, clock):
    petya = client(PETYA)
    await petya.send("/task A Позвонить клиенту +1h")
    await petya.send("/tasks")
    await petya.click("+1 ч")
    await petya.click("✅ Готово")
    await petya.send("/order A")
    log = await petya.click("История")
    assert (
        "@petya: задача выполнена «Позвонить клиенту»" in log.text
        and "@petya: задача перенесена «Позвонить клиенту»\n    22.11.2026 13:00 → 22.11.2026 14:00"
        in log.text
        and "@petya: задача добавлена «Позвонить клиенту»\n    @petya · до 22.11.2026 13:00"
        in log.text
    )
    history = (await client(ADMIN).send("/history")).text
    assert "задача выполнена · заказ №" in history
    assert "срок: 22.11.2026 13:00 → 22.11.2026 14:00" in history


# ---- blocked members -------------------------------------------------------------------------


async def test_blocked_members_open_tasks_are_offered_for_reassignment(
    client, orders, uows, app, shop
):
    await client(PETYA).send("/task A Отвезти документы +1h")
    await client(PETYA).send("/task A Уже сделано +1h")
    await client(PETYA).send("/tasks")
    await client(PETYA).click("✅ Готово")  # the first row: one open task stays
    admin = client(ADMIN)
    blocked = await admin.send("/block @petya")
    assert "передайте их командой /handover @petya @коллега" in blocked.text
    listing = await admin.send("/tasks")
    assert listing.buttons[3] == "⛔ Задачи заблокированных (1)"  # its own row, after the tabs
    tab = await admin.click("Задачи заблокированных")
    assert "передайте их тем, кто работает" in tab.text
    assert "⛔ @petya" in tab.text and tab.buttons[-3:] == ["1 · №A", "👤 Передать…", "✅ Готово"]
    picker = await admin.click("Передать")
    assert picker.text.startswith("Кому передать задачу вместо @petya?")
    assert "@petya" not in picker.buttons and "@vasya" in picker.buttons
    moved = await admin.click("@vasya")
    assert moved.alert == "Задача теперь у @vasya."
    assert "Здесь задач нет." in moved.text
    assert "• ⛔ Задачи заблокированных (0)" in moved.buttons  # the tab stays while it is open
    again = await admin.send("/tasks")
    assert not any("заблокированных" in b for b in again.buttons)
    await app.sender.drain()
    [notice] = sent_to(app, VASYA)
    assert notice.text.startswith("📌 @admin поручил(а) вам задачу по заказу №A, до 22.11.2026")
    open_tasks = [t for t in await all_tasks(uows) if t.status == "open"]
    assert [t.assignee_id for t in open_tasks] == [shop["m2"].member_id]


async def test_tasks_commands_are_in_help(client, shop):
    text = (await client(PETYA).send("/help")).text
    assert "/tasks — задачи: мои, просроченные, все" in text
    assert "/task — добавить задачу: /task 1042 Позвонить клиенту завтра 15:00" in text


async def test_task_text_that_cannot_be_stored_gets_a_clear_answer(client, orders, uows):
    petya = client(PETYA)
    reply = await petya.send("/task A Позвонить\x00 клиенту")
    assert reply.text.startswith("В задаче есть символы, которые нельзя сохранить")
    await petya.send("/order A")
    await petya.click("Задачи")
    await petya.click("Добавить")
    refused = await petya.send("Позвонить\x00")
    assert refused.text.startswith("В задаче есть символы, которые нельзя сохранить")
    assert await all_tasks(uows) == []
