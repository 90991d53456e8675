"""New unassigned orders are announced to opted-in members and the manager group; a claim edits
every announcement to show who took it."""

from __future__ import annotations

from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import Chat

from bot.orders.notify import announce
from core.orders.models import OrderAnnouncement
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


async def new_order(app, shop, number: str) -> int:
    account = shop["owner"].account_id
    order_id = await add_order(app.uows, account, number)
    await announce(app.bot, app.i18n, app.uows, account, [order_id])
    return order_id


async def test_notify_switch_and_bad_words(client, shop):
    petya = client(3001, username="petya")
    assert "выключены" in (await petya.send("/notify")).text
    assert "включены" in (await petya.send("/notify orders on")).text
    assert "включены" in (await petya.send("/notify")).text
    assert "Скажите on или off, а не maybe" in (await petya.send("/notify orders maybe")).text
    assert (await petya.send("/notify weather on")).text.startswith("Формат: /notify")
    assert "выключены" in (await petya.send("/notify orders off")).text


async def test_announced_to_opted_in_members_and_group_then_edited_on_claim(client, shop, app):
    await client(3001, username="petya").send("/notify orders on")
    await client(1000).send("/notify orders on")
    linked = await in_group(client, 2000, "admin").send("/linkgroup")
    assert "Менеджеры" in linked.text and "теперь группа менеджеров" in linked.text
    order_id = await new_order(app, shop, "N1")

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
    assert edits(app, 3001)[-1].startswith("✅ Заказ №N1") and "взял @petya" in edits(app, 3001)[-1]
    assert "взял @petya" in edits(app, GROUP)[-1]
    assert "взял @petya" in edits(app, 1000)[-1]

    vasya = in_group(client, 3002, "vasya")
    lost = await vasya.press(f"ann:{order_id}")
    assert lost.alert == "Не успели: заказ №N1 уже взял @petya."


async def test_claim_command_and_admin_assignment_edit_announcements_too(client, shop, app):
    await client(3001, username="petya").send("/notify orders on")
    await new_order(app, shop, "N1")
    await new_order(app, shop, "N2")
    await client(3002, username="vasya").send("/claim N2")
    assert "взял @vasya" in edits(app, 3001)[-1]
    admin = client(2000, username="admin")
    await admin.send("/order N1")
    await admin.click("Назначить…")
    await admin.click("@vasya")
    assert edits(app, 3001)[-1].startswith("✅ Заказ №N1") and "@vasya" in edits(app, 3001)[-1]


async def test_blocked_members_are_not_announced_to(client, shop, app):
    await client(3001, username="petya").send("/notify orders on")
    await client(3002, username="vasya").send("/notify orders on")
    await client(2000, username="admin").send("/block @petya")
    await new_order(app, shop, "N1")
    assert any("Новый заказ №N1" in m.text for m in sent(app, 3002))
    assert not any("Новый заказ" in m.text for m in sent(app, 3001))


async def test_stranger_in_the_group_cannot_claim(client, shop, app):
    await in_group(client, 2000, "admin").send("/linkgroup")
    order_id = await new_order(app, shop, "N1")
    stranger = in_group(client, 777, "stranger")
    reply = await stranger.press(f"ann:{order_id}")
    assert reply.alert == "Брать заказы могут только участники магазина."
    async with app.uows() as uow:
        from core.orders.models import Order

        assert (await uow.session.get(Order, order_id)).assignee_id is None


async def test_linkgroup_rules(client, shop, app):
    private = await client(2000, username="admin").send("/linkgroup")
    assert "отправьте /linkgroup там" in private.text
    manager = await in_group(client, 3001, "petya").send("/linkgroup")
    assert manager.text == "У вас нет прав на это действие."
    await in_group(client, 2000, "admin").send("/linkgroup")
    unlinked = await client(2000, username="admin").send("/linkgroup off")
    assert "отвязана" in unlinked.text
    assert "не привязана" in (await client(2000, username="admin").send("/linkgroup off")).text
    await new_order(app, shop, "N1")
    assert not any("Новый заказ" in m.text for m in sent(app, GROUP))


async def test_announcements_are_stored_for_later_edits(client, shop, app):
    await client(3001, username="petya").send("/notify orders on")
    order_id = await new_order(app, shop, "N1")
    async with app.uows() as uow:
        from sqlalchemy import select

        rows = list(
            await uow.session.scalars(
                select(OrderAnnouncement).where(OrderAnnouncement.order_id == order_id)
            )
        )
    assert [(r.chat_id, r.locale) for r in rows] == [(3001, "ru")]
