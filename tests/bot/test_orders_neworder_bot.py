"""/neworder: a five-step dialog with Cancel at every step; bad answers are refused in place."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.orders.models import Order
from tests.support.orders import add_order

STEPS = ["N-1", "Анна Смирнова", "+7 900 000-00-01", "2500,50"]


async def orders(uows) -> list[Order]:
    async with uows() as uow:
        return list(await uow.session.scalars(select(Order)))


async def test_full_dialog_creates_an_unassigned_order(client, shop, uows, app, deliver):
    await client(3001, username="petya").send("/notify orders on")
    admin = client(2000, username="admin")
    first = await admin.send("/neworder")
    assert "шаг 1 из 5" in first.text and first.buttons == ["✖ Отмена"]
    await admin.send("N-1")
    phone_step = await admin.send("Анна Смирнова")
    assert "Шаг 3 из 5" in phone_step.text and phone_step.buttons == ["Пропустить ▶", "✖ Отмена"]
    await admin.send("+7 900 000-00-01")
    total = await admin.send("2500,50")
    assert "Сумма: 2\u00a0500,50\u00a0₽" in total.texts[0] and "Шаг 5 из 5" in total.text
    done = (await admin.send("Домофон не работает")).texts[0]
    assert done.startswith("✅ Заказ создан.")
    assert "Анна Смирнова" in done and "Домофон не работает" in done
    [order] = await orders(uows)
    assert (order.number, order.total, order.source, order.assignee_id) == (
        "N-1",
        250_050,
        "manual",
        None,
    )
    assert order.created_by == shop["admin"].member_id
    assert await deliver() == 1  # the announcement, written with the order
    announced = [getattr(r, "text", "") for r in app.bot.session.requests]
    assert any("Новый заказ №N-1" in t for t in announced)


async def test_skip_phone_and_comment(client, shop, uows):
    admin = client(2000, username="admin")
    await admin.send("/neworder")
    await admin.send("N-2")
    await admin.send("Борис")
    await admin.click("Пропустить")
    await admin.send("100")
    done = await admin.click("Пропустить")
    assert "✅ Заказ создан." in done.texts[0]
    [order] = await orders(uows)
    assert order.customer_phone is None and order.comment is None


@pytest.mark.parametrize("step", range(5))
async def test_cancel_at_every_step_saves_nothing(client, shop, uows, step):
    admin = client(2000, username="admin")
    await admin.send("/neworder")
    for answer in STEPS[:step]:
        await admin.send(answer)
    cancelled = await admin.click("Отмена")
    assert cancelled.text == "Отменено: ничего не сохранено."
    assert await orders(uows) == []
    # The dialog is over: the next text is not taken as an answer.
    assert (
        "Не понимаю" in (await admin.send("N-9")).text
        or "не понимаю" in (await admin.send("N-9")).text.lower()
    )


async def test_cancel_command(client, shop, uows):
    admin = client(2000, username="admin")
    await admin.send("/neworder")
    await admin.send("N-1")
    assert (await admin.send("/cancel")).text == "Отменено: ничего не сохранено."
    assert (await admin.send("/cancel")).text == "Отменять нечего."
    assert await orders(uows) == []


async def test_bad_answers_are_refused_and_the_step_repeats(client, shop, uows):
    await add_order(uows, shop["owner"].account_id, "TAKEN")
    admin = client(2000, username="admin")
    await admin.send("/neworder")
    assert "Заказ №TAKEN уже есть" in (await admin.send("TAKEN")).text
    assert "Номер: номер заказа — одно слово" in (await admin.send("12 34")).text
    await admin.send("N-1")
    assert "Покупатель: слишком длинно" in (await admin.send("я" * 201)).text
    await admin.send("Анна")
    assert "Телефон: это не номер телефона" in (await admin.send("позвоните мне")).text
    await admin.send("+7 900 000-00-01")
    assert "Сумма: это не сумма" in (await admin.send("дорого")).text
    assert "Сумма: это не сумма" in (await admin.send("-5")).text
    sticker = await admin.send(sticker=None, caption=None, contact=_contact())
    assert "Ответьте текстом" in sticker.text
    await admin.send("99")
    done = await admin.send("ок")
    assert "✅ Заказ создан." in done.texts[0]
    assert {o.number for o in await orders(uows)} == {"TAKEN", "N-1"}


async def test_manager_cannot_start_the_dialog(client, shop, uows):
    petya = client(3001, username="petya")
    assert (await petya.send("/neworder")).text == "У вас нет прав на это действие."
    assert "не понимаю" in (await petya.send("N-1")).text.lower()
    assert await orders(uows) == []


def _contact():
    from aiogram.types import Contact

    return Contact(phone_number="+79000000000", first_name="X")


async def test_characters_that_cannot_be_stored_are_refused_in_place(client, shop, uows):
    admin = client(2000, username="admin")
    await admin.send("/neworder")
    refused = await admin.send("N\x001")
    assert refused.text.startswith("Номер: есть символы, которые нельзя сохранить")
    await admin.send("N-1")
    refused = await admin.send("Анна\x00")
    assert refused.text.startswith("Покупатель: есть символы, которые нельзя сохранить")
    await admin.send("Анна")
    await admin.send("+7 900 000-00-01")
    await admin.send("99")
    refused = await admin.send("позвонить\x00")
    assert refused.text.startswith("Комментарий: есть символы, которые нельзя сохранить")
    done = await admin.send("позвонить")
    assert "✅ Заказ создан." in done.texts[0]
    assert [(o.number, o.customer_name, o.comment) for o in await orders(uows)] == [
        ("N-1", "Анна", "позвонить")
    ]


async def test_the_refusal_is_in_the_members_language(client, shop, uows):
    admin = client(2000, username="admin")
    await admin.send("/lang en")
    await admin.send("/neworder")
    refused = await admin.send("N\x001")
    assert "contains characters that can't be stored" in refused.text
