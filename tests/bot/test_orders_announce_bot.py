"""New unassigned orders are announced to opted-in members and the manager group; a claim edits
every announcement to show who took it. Announcements and their edits go through the outbox: the
`deliver` fixture does what the running sender does after each update."""

from __future__ import annotations

import pytest
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import Chat

from core.notifications.models import OutboxMessage, OutboxStatus
from core.orders.notices import announcement_key
from tests.support.orders import add_order

GROUP = -100_500


def in_group(client, user_id: int, username: str | None):
    member = client(user_id, username=username)
    member.chat = Chat(id=GROUP, type="supergroup", title="Менеджеры")
    return member


def sent(app, chat_id: int) -> list[SendMessage]:
    return [
        r
        for r in app.bot.session.requests
        if isinstance(r, SendMessage) and int(r.chat_id) == chat_id
    ]


def edits(app, chat_id: int) -> list[str]:
    return [
        r.text
        for r in app.bot.session.requests
        if isinstance(r, EditMessageText) and int(r.chat_id) == chat_id
    ]


@pytest.fixture
def new_order(app, shop, deliver):
    """An order arrives through the intake (which announces it), and the sender delivers."""

    async def make(number: str) -> int:
        order_id = await add_order(app.uows, shop["owner"].account_id, number)
        await deliver()
        return order_id

    return make


async def test_notify_switch_and_bad_words(client, shop):
    petya = client(3001, username="petya")
    assert "выключены" in (await petya.send("/notify")).text
    assert "включены" in (await petya.send("/notify orders on")).text
    assert "включены" in (await petya.send("/notify")).text
    assert "Скажите on или off, а не maybe" in (await petya.send("/notify orders maybe")).text
    assert (await petya.send("/notify weather on")).text.startswith("Формат: /notify")
    assert "выключены" in (await petya.send("/notify orders off")).text


async def test_announced_to_opted_in_members_and_group_then_edited_on_claim(
    client, app, new_order, deliver
):
    await client(3001, username="petya").send("/notify orders on")
    await client(1000).send("/notify orders on")
    linked = await in_group(client, 2000, "admin").send("/linkgroup")
    assert "Менеджеры" in linked.text and "теперь группа менеджеров" in linked.text
    order_id = await new_order("N1")

    to_petya, to_group = sent(app, 3001)[-1], sent(app, GROUP)[-1]
    assert "Новый заказ №N1" in to_petya.text and "Кто возьмёт?" in to_petya.text
    assert to_petya.reply_markup.inline_keyboard[0][0].text == "✋ Взять"
    assert "Иван" not in to_petya.text  # an announcement is the limited view
    assert "Новый заказ №N1" in to_group.text
    assert sent(app, 3002) == []  # vasya did not opt in

    petya = client(3001, username="petya")
    message_id = max(petya.screen_messages())
    won = await petya.press(f"ann:{order_id}", message_id=message_id)
    assert won.alert == "Заказ №N1 теперь ваш."
    await deliver()
    assert sent(app, 3001)[-1].text == "Заказ №N1 теперь ваш."  # with Open, in private
    assert edits(app, 3001)[-1].startswith("✅ Заказ №N1") and "взял @petya" in edits(app, 3001)[-1]
    assert "взял @petya" in edits(app, GROUP)[-1]
    assert "взял @petya" in edits(app, 1000)[-1]

    vasya = in_group(client, 3002, "vasya")
    lost = await vasya.press(f"ann:{order_id}")
    assert lost.alert == "Не успели: заказ №N1 уже взял @petya."


async def test_claim_command_and_admin_assignment_edit_announcements_too(
    client, app, new_order, deliver
):
    await client(3001, username="petya").send("/notify orders on")
    await new_order("N1")
    await new_order("N2")
    await client(3002, username="vasya").send("/claim N2")
    await deliver()
    assert "взял @vasya" in edits(app, 3001)[-1]
    admin = client(2000, username="admin")
    await admin.send("/order N1")
    await admin.click("Назначить…")
    await admin.click("@vasya")
    await deliver()
    assert edits(app, 3001)[-1].startswith("✅ Заказ №N1") and "@vasya" in edits(app, 3001)[-1]


async def test_blocked_members_are_not_announced_to(client, app, new_order):
    await client(3001, username="petya").send("/notify orders on")
    await client(3002, username="vasya").send("/notify orders on")
    await client(2000, username="admin").send("/block @petya")
    await new_order("N1")
    assert any("Новый заказ №N1" in m.text for m in sent(app, 3002))
    assert not any("Новый заказ" in m.text for m in sent(app, 3001))


async def test_stranger_in_the_group_cannot_claim(client, app, new_order):
    await in_group(client, 2000, "admin").send("/linkgroup")
    order_id = await new_order("N1")
    stranger = in_group(client, 777, "stranger")
    reply = await stranger.press(f"ann:{order_id}")
    assert reply.alert == "Брать заказы могут только участники магазина."
    async with app.uows() as uow:
        from core.orders.models import Order

        assert (await uow.session.get(Order, order_id)).assignee_id is None


async def test_linkgroup_rules(client, app, new_order):
    private = await client(2000, username="admin").send("/linkgroup")
    assert "отправьте /linkgroup там" in private.text
    manager = await in_group(client, 3001, "petya").send("/linkgroup")
    assert manager.text == "У вас нет прав на это действие."
    await in_group(client, 2000, "admin").send("/linkgroup")
    unlinked = await client(2000, username="admin").send("/linkgroup off")
    assert "отвязана" in unlinked.text
    assert "не привязана" in (await client(2000, username="admin").send("/linkgroup off")).text
    await new_order("N1")
    assert not any("Новый заказ" in m.text for m in sent(app, GROUP))


async def test_announcements_keep_their_message_ids_for_later_edits(client, app, new_order):
    # The outbox row of each announcement holds the id of the message it became.
    await client(3001, username="petya").send("/notify orders on")
    order_id = await new_order("N1")
    async with app.uows() as uow:
        from sqlalchemy import select

        rows = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.event_key == announcement_key(order_id))
            )
        )
    assert [(r.chat_id, r.locale, r.status) for r in rows] == [(3001, "ru", OutboxStatus.SENT)]
    on_screen = client(3001, username="petya").screen_messages()[rows[0].telegram_message_id]
    assert "Новый заказ №N1" in on_screen.text


async def test_announcements_follow_unassign_and_closing(client, app, new_order, deliver):
    await client(3001, username="petya").send("/notify orders on")
    await new_order("N1")
    admin = client(2000, username="admin")
    await admin.send("/claim N1")
    await deliver()
    assert "взял @admin" in edits(app, 3001)[-1]
    await admin.send("/order N1")
    await admin.click("Снять исполнителя")
    await deliver()
    reopened = [r for r in app.bot.session.requests if isinstance(r, EditMessageText)][-1]
    assert "Новый заказ №N1" in reopened.text and "Кто возьмёт?" in reopened.text
    assert reopened.reply_markup.inline_keyboard[0][0].text == "✋ Взять"
    await admin.send("/order N1")
    await admin.click("Статус…")
    await admin.click("отменён")
    await admin.click("Дубль заказа")  # cancelling asks why
    await deliver()
    assert edits(app, 3001)[-1] == "❌ Заказ №N1 (3\u00a0000,00\u00a0₽) теперь отменён."
    assert await deliver() == 0  # each change edited once


async def test_an_unchanged_announcement_is_not_a_failure(client, app, new_order, deliver):
    from aiogram.exceptions import TelegramBadRequest
    from sqlalchemy import select

    await client(3001, username="petya").send("/notify orders on")
    await new_order("N1")
    await client(3002, username="vasya").send("/claim N1")
    method = EditMessageText(text="…", chat_id=3001, message_id=1)
    app.bot.session.failures[EditMessageText] = [
        TelegramBadRequest(method=method, message="Bad Request: message is not modified")
    ]
    assert await deliver() == 1
    async with app.uows() as uow:
        edit = (
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.edit_of.is_not(None))
            )
        ).one()
    assert edit.status == OutboxStatus.SENT and edit.telegram_message_id is not None
