"""/history filters (member, action type, period) and the CSV export of filtered entries."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from aiogram.methods import EditMessageText, SendDocument, SendMessage

from core.orders.service import claim_order
from tests.support.orders import add_order

OWNER, ADMIN, PETYA, VASYA = 1000, 2000, 3001, 3002
USERNAMES = {OWNER: "owner", ADMIN: "admin", PETYA: "petya", VASYA: "vasya"}


@pytest.fixture
def client(client):
    def make(user_id: int, **kwargs):
        kwargs.setdefault("username", USERNAMES.get(user_id))
        return client(user_id, **kwargs)

    return make


async def claims(uows, shop, clock, count: int, who: str = "m1") -> None:
    """`count` orders claimed by a manager, one a minute, a day after the set-up."""
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    for n in range(count):
        clock.advance(timedelta(minutes=1))
        order_id = await add_order(uows, shop["owner"].account_id, f"H{who}{n}")
        async with uows() as uow:
            await claim_order(uow, shop[who], order_id)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("<code>")]


def csv_rows(reply, delimiter: str) -> list[list[str]]:
    [document] = [r for r in reply.requests if isinstance(r, SendDocument)]
    data = document.document.data
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


async def test_filters_by_member_action_and_period_from_the_command(client, shop, uows, clock):
    await claims(uows, shop, clock, 2)
    await client(OWNER).send("/block @vasya отпуск")
    admin = client(ADMIN)
    reply = await admin.send("/history @petya orders")
    assert "Фильтры: @petya · Заказы" in reply.text
    shown = lines(reply.text)
    assert len(shown) == 2 and all("@petya: заказ взят" in line for line in shown)
    # Set-up entries are on 22.11; the claims on 23.11 (Moscow).
    sunday = await admin.send("/history 22.11.2026-22.11.2026")
    assert "Фильтры: 22.11.2026" in sunday.text
    assert not any("заказ взят" in line for line in lines(sunday.text))
    assert any("участник вступил" in line for line in lines(sunday.text))
    blocked = await admin.send("/history member.blocked")
    assert len(lines(blocked.text)) == 1 and "отпуск" in blocked.text


async def test_filter_buttons_edit_the_message(client, shop, uows, clock):
    await claims(uows, shop, clock, 1)
    admin = client(ADMIN)
    first = await admin.send("/history")
    assert first.buttons[:5] == [
        "• Всё время",
        "Сегодня",
        "7 дней",
        "Этот месяц",
        "Прошлый месяц",
    ]
    assert "Заказы" in first.buttons and "📄 CSV" in first.buttons
    orders = await admin.click("Заказы")
    assert isinstance(orders.requests[0], EditMessageText)
    assert "• Заказы" in orders.buttons
    assert lines(orders.text) and all("заказ" in line for line in lines(orders.text))
    today = await admin.click("Сегодня")  # 23.11 now: the claim, not the set-up
    assert "Фильтры: Заказы · Сегодня · 23.11.2026" in today.text
    assert "• Сегодня" in today.buttons and "• Заказы" in today.buttons
    last_month = await admin.click("Прошлый месяц")
    assert "Под эти фильтры записи не подходят." in last_month.text
    assert not lines(last_month.text)


async def test_pages_keep_the_filters(client, shop, uows, clock):
    await claims(uows, shop, clock, 12)
    await claims(uows, shop, clock, 3, who="m2")
    admin = client(ADMIN)
    await admin.send("/history @petya orders")
    older = await admin.click("Раньше ▶")
    assert "стр. 2" in older.text and "Фильтры: @petya · Заказы" in older.text
    assert len(lines(older.text)) == 2 and "@vasya" not in older.text
    cleared = await admin.click("✕ @petya")
    assert "@vasya: заказ взят" in cleared.text and "стр. 1" in cleared.text


async def test_member_card_history_still_opens_a_new_message(client, shop):
    admin = client(ADMIN)
    await admin.send("/users")
    card = await admin.click("@petya")
    assert card.requests
    reply = await admin.click("История")
    assert any(isinstance(r, SendMessage) for r in reply.requests)
    assert "Фильтры: @petya" in reply.text


async def test_csv_export_in_russian(client, shop, uows, clock):
    await claims(uows, shop, clock, 12)
    admin = client(ADMIN)
    await admin.send("/history @petya orders")
    reply = await admin.click("📄 CSV")
    rows = csv_rows(reply, ";")
    assert rows[0] == [
        "Время",
        "Сотрудник",
        "Действие",
        "Код действия",
        "Объект",
        "Изменения",
        "Причина",
    ]
    assert len(rows) == 13  # every filtered entry, not one page
    assert rows[1][:4] == ["23.11.2026 12:12", "'@petya", "заказ взят", "order.claimed"]
    assert rows[1][5] == "статус: новый → в работе; исполнитель: @petya"
    assert rows[1][4].startswith("заказ №H")
    assert reply.requests[0].caption == "Записей: 12"


async def test_csv_export_in_english(client, shop):
    owner = client(OWNER)
    await owner.send("/block @vasya holiday & rest")
    await owner.send("/lang")
    await owner.click("English")
    await owner.send("/history members")
    rows = csv_rows(await owner.click("📄 CSV"), ",")
    assert rows[0] == ["Time", "Member", "Action", "Action code", "Subject", "Changes", "Reason"]
    blocked = next(row for row in rows if row[3] == "member.blocked")
    assert blocked[1] == "'@owner" and blocked[6] == "holiday & rest"


async def test_bad_filters_get_a_clear_error(client, shop):
    admin = client(ADMIN)
    unknown = await admin.send("/history gossip")
    assert "Неизвестный тип действия gossip" in unknown.text
    bad_day = await admin.send("/history 30.02.2026-01.03.2026")
    assert "Даты 30.02.2026 не существует" in bad_day.text
    manager = await client(PETYA).send("/history")
    assert "нет прав" in manager.text
    forged = await client(PETYA).press("hist:0:0::::0:0:0:1")
    assert forged.alert and not any(isinstance(r, SendDocument) for r in forged.requests)


async def test_entries_read_in_words_not_codes(client, shop, uows, clock):
    """Order numbers, not ids; rubles, not kopecks; localized fields and values; on/off."""
    await claims(uows, shop, clock, 1)
    owner = client(OWNER)
    await owner.send("/quiet off")
    await owner.send("/block @vasya отпуск")
    reply = await owner.send("/history")
    text = reply.text
    assert "@petya: заказ взят · заказ №Hm10" in text
    assert "статус: новый → в работе; исполнитель: @petya" in text
    assert "тихие часы: выкл." in text and "False" not in text and "True" not in text
    assert "участник заблокирован · @vasya" in text
    assert "статус: активен → заблокирован" in text
    for raw in ("order #", "member #", "in_progress", "status:", "assignee:"):
        assert raw not in text
    created = await owner.send("/history order.created")
    assert "сумма: 3\u00a0000,00\u00a0₽; источник: API" in created.text
    assert "300000" not in created.text
    # English shows English field names.
    await owner.send("/lang")
    await owner.click("English")
    english = await owner.send("/history")
    assert "quiet hours: off" in english.text
    assert "status: active → blocked" in english.text


async def test_a_member_filter_shows_actions_by_and_on_the_member(client, shop, uows, clock):
    await claims(uows, shop, clock, 1, who="m2")
    await client(OWNER).send("/block @vasya отпуск")
    reply = await client(ADMIN).send("/history @vasya")
    shown = lines(reply.text)
    assert any("@vasya: заказ взят" in line for line in shown)
    assert any("@owner: участник заблокирован · @vasya" in line for line in shown)


async def test_a_top_up_shows_its_payment_reference_not_a_reason(client, shop):
    owner = client(OWNER)
    await owner.send("/topup 1500 PP-77")
    await owner.click("Зачислить")
    text = (await owner.send("/history services")).text
    assert "номер платежа: PP-77" in text and "причина" not in text
    await owner.send("/lang en")
    assert "payment reference: PP-77" in (await owner.send("/history services")).text
