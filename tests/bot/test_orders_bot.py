"""/orders, /order, /claim and the card: every role's view of every tab and card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage
from sqlalchemy import select

from bot.format import money
from core.audit.models import AuditEntry
from core.members.models import Member
from core.notifications.models import OutboxMessage, OutboxStatus
from core.orders.models import Order
from core.orders.service import claim_order
from tests.support.orders import add_order

OWNER, ADMIN, PETYA, VASYA = 1000, 2000, 3001, 3002
USERNAMES = {ADMIN: "admin", PETYA: "petya", VASYA: "vasya"}
TOTAL = money(300_000)  # "3 000,00 ₽"


@pytest.fixture
def client(client):
    """Members keep their usernames (the bot refreshes them from every update)."""

    def make(user_id: int, **kwargs):
        kwargs.setdefault("username", USERNAMES.get(user_id))
        return client(user_id, **kwargs)

    return make


async def claim(uows, actor, order_id):
    async with uows() as uow:
        return await claim_order(uow, actor, order_id)


async def stored(uows, number) -> Order:
    async with uows() as uow:
        return (await uow.session.scalars(select(Order).where(Order.number == number))).one()


async def three_orders(uows, shop) -> dict[str, int]:
    """A: petya's, B: vasya's, C: unassigned."""
    account = shop["owner"].account_id
    ids = {n: await add_order(uows, account, n) for n in ("A", "B", "C")}
    await claim(uows, shop["m1"], ids["A"])
    await claim(uows, shop["m2"], ids["B"])
    return ids


def sent_to(app, chat_id: int) -> list[str]:
    return [
        r.text
        for r in app.bot.session.requests
        if isinstance(r, SendMessage) and int(r.chat_id) == chat_id
    ]


# ---- lists -----------------------------------------------------------------------------------


async def test_manager_tabs_and_team_view(client, shop, uows, clock):
    await three_orders(uows, shop)
    clock.advance(timedelta(hours=3))
    petya = client(PETYA)
    reply = await petya.send("/orders")
    assert reply.buttons[:3] == ["• Мои", "Свободные", "Команда"]
    assert f"🔄 №A · Иван Петров · {TOTAL} · @petya · 3 ч" in reply.buttons
    assert not any("№B" in b or "№C" in b for b in reply.buttons)
    team = await petya.click("Команда")
    assert "видны только номер, статус, сумма, исполнитель и дата" in team.text
    rows = [b for b in team.buttons if "№" in b]
    assert rows == [
        f"🆕 №C · {TOTAL} · — · 3 ч",
        f"🔄 №B · {TOTAL} · @vasya · 3 ч",
        f"🔄 №A · Иван Петров · {TOTAL} · @petya · 3 ч",
    ]
    # The customer's name only on his own order's row, as on its card.
    assert "Иван" not in team.text and [b for b in team.buttons if "Иван" in b] == [rows[2]]
    free = await petya.click("Свободные")
    assert [b for b in free.buttons if "№" in b] == [f"🆕 №C · {TOTAL} · — · 3 ч"]


@pytest.mark.parametrize("user", [ADMIN, OWNER])
async def test_admin_and_owner_see_the_all_tab(client, shop, uows, user):
    await three_orders(uows, shop)
    admin = client(user)
    reply = await admin.send("/orders")
    assert reply.buttons[:3] == ["• Мои", "Свободные", "Все"]
    assert "Здесь заказов нет" in reply.text
    every = await admin.click("Все")
    assert len([b for b in every.buttons if "№" in b]) == 3
    assert "видны только" not in every.text
    free = await admin.click("Свободные")
    assert [b for b in free.buttons if "№" in b] == [f"🆕 №C · Иван Петров · {TOTAL} · — · 0 мин"]
    card = await admin.click("№C")
    assert "+7 900 123-45-67" in card.text
    assert card.buttons == [
        "✋ Взять",
        "👤 Назначить…",
        "🔁 Статус…",
        "📜 История",
        "📋 Задачи (0)",
        "👤 Покупатель",
        "« Заказы",
    ]


async def test_ten_per_page_keyset_navigation_and_status_filter(client, shop, uows, clock):
    account = shop["owner"].account_id
    for n in range(23):
        clock.advance(timedelta(minutes=1))
        await add_order(uows, account, f"P{n:02d}")
    admin = client(ADMIN)
    await admin.send("/orders")
    first = await admin.click("Все")
    rows = [b for b in first.buttons if "№" in b]
    assert len(rows) == 10 and "№P22" in rows[0] and "◀ Позже" not in first.buttons
    second = await admin.click("Раньше ▶")
    assert "№P12" in next(b for b in second.buttons if "№" in b)
    third = await admin.click("Раньше ▶")
    assert len([b for b in third.buttons if "№" in b]) == 3 and "Раньше ▶" not in third.buttons
    back = await admin.click("◀ Позже")
    assert [b for b in back.buttons if "№" in b] == [b for b in second.buttons if "№" in b]
    async with uows() as uow:
        order = (await uow.session.scalars(select(Order).where(Order.number == "P05"))).one()
    await claim(uows, shop["m1"], order.id)
    filtered = await admin.click("🔄")
    assert [b for b in filtered.buttons if "№" in b] == [
        f"🔄 №P05 · Иван Петров · {TOTAL} · @petya · 17 мин"
    ]
    assert "Статус: в работе" in filtered.text


# ---- cards -----------------------------------------------------------------------------------


async def test_own_card_in_full_with_actions(client, shop, uows):
    await three_orders(uows, shop)
    reply = await client(PETYA).send("/order A")
    for shown in (
        "Иван Петров",
        "+7 900 123-45-67",
        "ivan@example.com",
        "ул. Ленина",
        "Чайник × 2",
    ):
        assert shown in reply.text
    assert "Позвонить до обеда" in reply.text and "Исполнитель: @petya" in reply.text
    assert reply.buttons == [
        "🔁 Статус…",
        "📜 История",
        "📋 Задачи (0)",
        "👤 Покупатель",
        "« Заказы",
    ]


async def test_colleague_card_is_limited_without_actions(client, shop, uows):
    await three_orders(uows, shop)
    reply = await client(PETYA).send("/order B")
    assert "Заказ №B" in reply.text and TOTAL in reply.text and "@vasya" in reply.text
    assert "🔒 Это заказ @vasya" in reply.text
    for hidden in ("Иван", "+7 900", "ivan@example.com", "Ленина", "Чайник", "Позвонить"):
        assert hidden not in reply.text
    assert reply.buttons == ["📋 Задачи (0)", "« Заказы"]  # tasks may go on any visible order


async def test_admin_and_owner_see_every_card_in_full(client, shop, uows):
    await three_orders(uows, shop)
    for user in (ADMIN, OWNER):
        reply = await client(user).send("/order B")
        assert "+7 900 123-45-67" in reply.text
        assert reply.buttons == [
            "👤 Назначить…",
            "🚫 Снять исполнителя",
            "🔁 Статус…",
            "📜 История",
            "📋 Задачи (0)",
            "👤 Покупатель",
            "« Заказы",
        ]


async def test_unassigned_card_claim_button_opens_full_card(client, shop, uows):
    await three_orders(uows, shop)
    petya = client(PETYA)
    await petya.send("/orders")
    await petya.click("Свободные")
    card = await petya.click("№C")
    assert "🔒 Данные покупателя видны исполнителю" in card.text and "+7 900" not in card.text
    assert card.buttons == ["✋ Взять", "📋 Задачи (0)", "« Заказы"]
    claimed = await petya.click("Взять")
    assert claimed.alert == "Заказ №C теперь ваш."
    assert "+7 900 123-45-67" in claimed.text and "Исполнитель: @petya" in claimed.text
    assert (await stored(uows, "C")).assignee_id == shop["m1"].member_id


async def test_claim_command_loser_is_told_who_has_it(client, shop, uows):
    await three_orders(uows, shop)
    assert (await client(PETYA).send("/claim C")).text == "Заказ №C теперь ваш."
    assert (await client(PETYA).send("/claim #C")).text == "Заказ №C уже ваш."
    lost = await client(VASYA).send("/claim C")
    assert lost.text == "Не успели: заказ №C уже взял @petya."
    async with uows() as uow:
        claims = await uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "order.claimed")
        )
        assert len(list(claims)) == 3  # A, B and C once each


async def test_card_claim_loser_gets_alert_and_fresh_card(client, shop, uows):
    ids = await three_orders(uows, shop)
    vasya = client(VASYA)
    await vasya.send("/order C")
    await claim(uows, shop["m1"], ids["C"])  # petya was faster
    reply = await vasya.click("Взять")
    assert reply.alert == "Не успели: заказ №C уже взял @petya."
    assert "🔒 Это заказ @petya" in reply.text


# ---- assignment ------------------------------------------------------------------------------


async def test_admin_reassigns_with_picker_and_both_are_notified(client, shop, uows, app, deliver):
    await three_orders(uows, shop)
    admin = client(ADMIN)
    await admin.send("/order A")
    picker = await admin.click("Назначить…")
    assert "Кому передать заказ №A?" in picker.text
    assert "• @petya" in picker.buttons and "@vasya" in picker.buttons
    done = await admin.click("@vasya")
    assert done.alert == "Готово." and "Исполнитель: @vasya" in done.texts[0]
    assert sent_to(app, PETYA) == sent_to(app, VASYA) == []  # notices go through the outbox
    assert await deliver() == 2
    assert sent_to(app, PETYA) == ["📤 Заказ №A передан @vasya."]
    assert sent_to(app, VASYA) == [f"📥 Вам назначен заказ №A ({TOTAL})."]
    unassigned = await admin.click("Снять исполнителя")
    assert "Исполнитель: —" in unassigned.texts[0]
    await deliver()
    assert sent_to(app, VASYA)[-1] == "📤 Заказ №A больше не назначен на вас."
    assert (await stored(uows, "A")).assignee_id is None


async def test_assignment_survives_a_member_who_blocked_the_bot(client, shop, uows, app, deliver):
    await three_orders(uows, shop)
    session = app.bot.session
    original = session.make_request

    async def refusing(bot, method, timeout=None):
        if isinstance(method, SendMessage) and int(method.chat_id) == PETYA:
            raise TelegramForbiddenError(method=method, message="bot was blocked by the user")
        return await original(bot, method, timeout)

    session.make_request = refusing
    admin = client(ADMIN)
    await admin.send("/order A")
    await admin.click("Назначить…")
    done = await admin.click("@vasya")
    assert "Исполнитель: @vasya" in done.texts[0]
    await deliver()  # petya's notice is refused: the change stays committed
    assert (await stored(uows, "A")).assignee_id == shop["m2"].member_id
    assert sent_to(app, VASYA) == [f"📥 Вам назначен заказ №A ({TOTAL})."]
    async with uows() as uow:
        notices = {
            r.chat_id: r.status
            for r in await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind.startswith("order_"))
            )
        }
        petya = await uow.session.get(Member, shop["m1"].member_id)
    assert notices == {PETYA: OutboxStatus.UNREACHABLE, VASYA: OutboxStatus.SENT}
    assert petya.unreachable is True


async def test_manager_cannot_assign_even_with_forged_button(client, shop, uows):
    ids = await three_orders(uows, shop)
    reply = await client(PETYA).press(f"o:assign:{ids['C']}:{shop['m1'].member_id}:")
    assert reply.alert == "У вас нет прав на это действие."
    reply = await client(PETYA).press(f"o:pick:{ids['C']}:0:")
    assert reply.alert == "У вас нет прав на это действие."
    assert (await stored(uows, "C")).assignee_id is None


# ---- status and log --------------------------------------------------------------------------


async def test_status_change_and_the_order_log(client, shop, uows, app):
    await three_orders(uows, shop)
    petya = client(PETYA)
    await petya.send("/order A")
    picker = await petya.click("Статус…")
    assert picker.buttons == ["✅ выполнен", "❌ отменён", "« Назад"]
    await petya.click("выполнен")  # asks first
    done = await petya.click("Да, завершить")
    assert "✅ выполнен" in done.text and "Выполнен: 22.11.2026 12:00" in done.text
    assert "🔁 Статус…" not in done.buttons  # only an admin reopens
    log = await petya.click("📜 История")
    assert "Журнал заказа №A" in log.text
    assert "заказ взят" in log.text and "статус заказа изменён" in log.text
    assert "в работе → выполнен" in log.text and "— → @petya" in log.text
    assert "22.11.2026 12:00" in log.text  # T0 in Moscow
    reopen = await client(ADMIN).send("/order A")
    assert "🔁 Статус…" in reopen.buttons
    await client(ADMIN).click("Статус…")
    back = await client(ADMIN).click("в работе")
    assert "🔄 в работе" in back.text
    history = await client(ADMIN).send("/history")
    assert "заказ возвращён в работу" in history.text and "заказ взят" in history.text


async def test_colleague_cannot_read_log_or_change_status(client, shop, uows):
    ids = await three_orders(uows, shop)
    vasya = client(VASYA)
    log = await vasya.press(f"o:log:{ids['A']}:0:")
    assert log.alert == "Вам доступен журнал только своих заказов; №A — не ваш."
    status = await vasya.press(f"o:set:{ids['A']}:0:completed")
    assert "назначен не на вас" in status.alert
    assert (await stored(uows, "A")).status == "in_progress"


# ---- bad input -------------------------------------------------------------------------------


async def test_bad_commands_and_buttons_get_clear_answers(client, shop, uows):
    ids = await three_orders(uows, shop)
    admin = client(ADMIN)
    assert (await admin.send("/order")).text == "Формат: /order 1042 — номер заказа."
    assert (await admin.send("/claim")).text == "Формат: /claim 1042 — номер заказа."
    assert "нет заказа №999" in (await admin.send("/order 999")).text
    assert "«12 34» — не номер заказа" in (await admin.send("/order 12 34")).text
    bogus = await admin.press(f"o:set:{ids['C']}:0:shipped")
    assert bogus.alert == "Неизвестный статус заказа shipped."
    jump = await admin.press(f"o:set:{ids['C']}:0:completed")
    assert "нельзя перевести" in jump.alert
    gone = await admin.press("o:card:999999:0:")
    assert "больше нет" in gone.alert
    for data in ("ol:z:-:0:0:0", "o:explode:1:0:", "ol:a:-:zz:1:0"):
        assert (await admin.press(data)).alert
    assert (await stored(uows, "C")).status == "new"


async def test_foreign_account_order_is_invisible(client, shop, uows):
    from tests.support.factories import new_account

    other = await new_account(uows, owner_tg=9000, name="Other")
    foreign = await add_order(uows, other.account_id, "F")
    reply = await client(ADMIN).press(f"o:claim:{foreign}:0:")
    assert "больше нет" in reply.alert
    assert (await client(ADMIN).send("/order F")).text.startswith("В вашем аккаунте нет заказа")
    assert (await stored(uows, "F")).assignee_id is None


async def test_blocked_member_cannot_claim(client, shop, uows):
    await three_orders(uows, shop)
    await client(ADMIN).send("/block @petya")
    reply = await client(PETYA).send("/claim C")
    assert "заблокировал" in reply.text
    assert (await stored(uows, "C")).assignee_id is None


async def test_orders_commands_in_help(client, shop):
    manager_help = (await client(PETYA).send("/help")).text
    assert "/orders" in manager_help and "/claim" in manager_help


async def test_refused_view_says_why(client, shop, uows):
    from sqlalchemy import update

    from core.members.models import Member, Role

    await three_orders(uows, shop)
    async with uows() as uow:
        role = Role(
            account_id=shop["owner"].account_id,
            code="solo",
            permissions=["orders.view_own", "orders.claim"],
        )
        uow.session.add(role)
        await uow.session.flush()
        await uow.session.execute(
            update(Member).where(Member.telegram_id == PETYA).values(role_id=role.id)
        )
        await uow.commit()
    petya = client(PETYA)
    refused = await petya.send("/order B")
    assert refused.text == "Заказ №B назначен на @vasya; ваша роль видит только свои заказы."
    tabs = await petya.send("/orders")
    assert tabs.buttons[:2] == ["• Мои", "Свободные"] and "Команда" not in tabs.buttons
    forged = await petya.press("ol:a:-:0:0:0")
    assert forged.alert == "У вас нет прав на это действие."


async def test_retapping_the_current_tab_is_harmless(client, shop, uows, app):
    from aiogram.exceptions import TelegramBadRequest
    from aiogram.methods import EditMessageText

    await three_orders(uows, shop)
    session = app.bot.session
    original = session.make_request

    async def unchanged(bot, method, timeout=None):
        if isinstance(method, EditMessageText):
            raise TelegramBadRequest(method=method, message="Bad Request: message is not modified")
        return await original(bot, method, timeout)

    petya = client(PETYA)
    await petya.send("/orders")
    session.make_request = unchanged
    reply = await petya.click("• Мои")
    assert reply.answered_callback and reply.alert is None


def test_card_buttons_pack_like_the_callback_factory():
    from bot.orders.callbacks import OrderCb, OrderOp
    from bot.orders.render import card_data

    for order_id in (1, 42, 9_876_543_210, 2**53):
        packed = card_data(order_id)
        assert packed == OrderCb(op=OrderOp.CARD, order_id=order_id).pack()
        unpacked = OrderCb.unpack(packed)
        assert (unpacked.op, unpacked.order_id) == (OrderOp.CARD, order_id)
