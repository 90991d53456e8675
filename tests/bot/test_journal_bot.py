from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.journal import service
from core.journal.renewals import process_due_services
from tests.support.factories import new_account
from tests.support.journal import fund, load, money, order, set_up

OWNER, ADMIN, MANAGER = 1000, 2000, 3001
MSK_MIDNIGHT_22_DEC = datetime(2026, 12, 21, 21, 0, tzinfo=UTC)


def plain(text: str) -> str:
    """Money is printed with no-break spaces; tests read it with plain ones."""
    return text.replace("\u00a0", " ")


async def run_lifecycle(uows) -> None:
    async with uows() as uow:
        await process_due_services(uow)


async def test_empty_journal_offers_the_order_button_only_to_managers_of_services(client, shop):
    owner_view = await client(OWNER).send("/services")
    assert "Подключённых услуг пока нет" in owner_view.text
    assert owner_view.buttons == ["➕ Заказать услугу"]
    manager_view = await client(MANAGER).send("/services")
    assert manager_view.buttons == []


async def test_order_from_the_catalog_charges_once(client, shop, uows):
    owner = client(OWNER)
    await owner.send("/topup 10000 PP-1")
    await owner.click("✅ Зачислить")
    await owner.send("/services")
    catalog = await owner.click("Заказать услугу")
    assert "Пакет МультиТрекинга" in catalog.text
    assert "4 900,00 ₽ / мес. · требует настройки" in plain(catalog.text)
    quote = await owner.click("Пакет МультиТрекинга")
    assert "Баланс сейчас: 10 000,00 ₽ → после списания: 5 100,00 ₽." in plain(quote.text)
    assert "Занимает номера для отслеживания: 5" in quote.text
    message_id, confirm = owner.find_button("Заказать за 4")
    first = await owner.press(confirm, message_id=message_id)
    again = await owner.press(confirm, message_id=message_id)  # a double tap
    assert "Заказано: списано 4 900,00 ₽, баланс 5 100,00 ₽." in plain(first.alert)
    assert "уже оформлен" in again.alert
    assert "Статус: требует настройки" in first.text
    assert "+74951200001, +74951200002" in first.text
    assert await money(uows, shop["owner"].account_id) == (5_100_00, 5_100_00)


async def test_short_balance_is_refused_with_the_shortfall(client, shop, uows):
    owner = client(OWNER)
    await owner.send("/topup 1000 PP-2")
    await owner.click("✅ Зачислить")
    await owner.send("/services")
    await owner.click("Заказать услугу")
    quote = await owner.click("Коллтрекинг")
    assert "не хватает 490,00 ₽" in plain(quote.text) and "/topup" in quote.text
    assert not any("Заказать за" in b for b in quote.buttons)
    forged = await owner.press("ct:buy:call_tracking:abcdef123456")
    assert "не хватает 490,00 ₽" in plain(forged.alert)
    assert "Подключённых услуг пока нет" in (await owner.send("/services")).text
    assert await money(uows, shop["owner"].account_id) == (1_000_00, 1_000_00)


async def test_journal_rows_in_russian_and_in_english(client, shop, uows):
    owner = shop["owner"]
    await fund(uows, owner, 3_000_00)
    chat = (await order(uows, owner, "chat_widget")).service.id
    callback = (await order(uows, owner, "callback_widget")).service.id
    await order(uows, owner, "email_tracking")
    await run_lifecycle(uows)
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, callback, False)
    manager = client(MANAGER)
    ru = plain((await manager.send("/services")).text)
    assert "<b>Услуги</b> · баланс 930,00 ₽" in ru
    assert "🟢 <b>Онлайн-чат</b> · чат\n    работает · 22.11.2026 → 22.12.2026 · " in ru
    assert "790,00 ₽ / мес. · автопродление ✓" in ru
    assert "работает · 22.11.2026 → ❗22.12.2026 · 590,00 ₽ / мес. · автопродление ✗" in ru
    assert "🟡 <b>Емейл-трекинг</b> · почта\n    требует настройки · — → — · 690,00 ₽" in ru
    assert "🔴 не работает" in ru  # the legend
    await manager.send("/lang en")
    reply = await manager.send("/services")
    en = plain(reply.text)
    assert "<b>Services</b> · balance 930.00 ₽" in en
    assert "🟢 <b>Chat widget</b> · chat\n    working · 22.11.2026 → 22.12.2026 · " in en
    assert "790.00 ₽ / month · auto-renew ✓" in en
    assert "🟡 <b>Email tracking</b> · email\n    needs setup · — → — · 690.00 ₽ / month" in en
    assert reply.buttons == ["🟢 Chat widget", "🟢 Callback widget", "🟡 Email tracking"]
    card = await manager.click("Chat widget")
    assert "Channel: chat\nStatus: working\nPeriod: 22.11.2026 → 22.12.2026" in card.text
    assert card.buttons == ["📜 Log", "« Services"]
    assert (await load(uows, chat)).auto_renew is True


async def test_card_buttons_follow_permissions_and_forged_presses_change_nothing(
    client, shop, uows
):
    await fund(uows, shop["owner"], 1_000_00)
    sid = (await order(uows, shop["owner"], "email_tracking")).service.id
    manager, admin = client(MANAGER), client(ADMIN)
    await manager.send("/services")
    assert (await manager.click("Емейл-трекинг")).buttons == ["📜 История", "« Услуги"]
    forged = await manager.press(f"sv:setup:{sid}:0")
    assert "нет прав" in forged.alert
    assert (await load(uows, sid)).status == "needs_setup"
    await admin.send("/services")
    card = await admin.click("Емейл-трекинг")
    assert card.buttons == [
        "⏸ Выключить автопродление",
        "⛔ Отключить",
        "✅ Отметить настроенной",
        "📜 История",
        "« Услуги",
    ]
    done = await admin.click("Отметить настроенной")
    assert "настроена и работает" in done.alert
    assert "Статус: работает" in done.text and "✅ Отметить настроенной" not in done.buttons
    log = await admin.click("История")
    assert "услуга включена" in log.text and "услуга заказана" in log.text


async def test_auto_renew_toggle_and_disconnect_with_a_refund(client, shop, uows, clock):
    await fund(uows, shop["owner"], 1_000_00)
    await order(uows, shop["owner"], "chat_widget")
    await run_lifecycle(uows)  # active 22 Nov – 22 Dec
    clock.advance(timedelta(days=10))
    admin = client(ADMIN)
    await admin.send("/services")
    await admin.click("Онлайн-чат")
    off = await admin.click("Выключить автопродление")
    assert off.alert == "Автопродление выключено."
    assert "Автопродление: ✗" in off.text and "услуга отключится 22.12.2026" in off.text
    ask = await admin.click("⛔ Отключить")
    assert "Неиспользованные дни вернутся на баланс: 526,66 ₽" in plain(ask.text)
    message_id, yes = admin.find_button("Да, отключить")
    first = await admin.press(yes, message_id=message_id)
    again = await admin.press(yes, message_id=message_id)
    assert "возвращено 526,66 ₽" in plain(first.alert) and "Уже сделано" in again.alert
    assert "Статус: отключена" in first.text
    assert "↩️ Вернуть (осталось дней: 14)" in first.buttons
    assert await money(uows, shop["owner"].account_id) == (736_66, 736_66)


async def test_return_shows_days_left_and_charges_once(client, shop, uows, clock):
    owner = shop["owner"]
    await fund(uows, owner, 5_000_00)
    sid = (await order(uows, owner, "call_tracking")).service.id
    await set_up(uows, owner, sid)
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, sid, False)
    clock.set(MSK_MIDNIGHT_22_DEC)
    await run_lifecycle(uows)
    clock.advance(timedelta(days=4, hours=10))
    c = client(OWNER)
    journal = plain((await c.send("/services")).text)
    assert "🔴 <b>Коллтрекинг</b>" in journal
    assert "отключена · 22.11.2026 → ❗22.12.2026" in journal
    card = await c.click("Коллтрекинг")
    assert "Номера: +74951200001" in card.text
    assert "до 05.01.2027 00:00 (осталось дней: 10)" in card.text
    ask = await c.click("Вернуть (осталось дней: 10)")
    assert "после списания: 2 020,00 ₽" in plain(ask.text)
    assert "Автопродление выключено: закончится 26.01.2027." in ask.text
    message_id, yes = c.find_button("Вернуть за")
    first = await c.press(yes, message_id=message_id)
    again = await c.press(yes, message_id=message_id)
    assert "списано 1 490,00 ₽" in plain(first.alert) and "Уже сделано" in again.alert
    assert "Период: 26.12.2026 → ❗26.01.2027" in first.text  # auto-renew is still off
    assert "Номера: +74951200001" in first.text
    assert await money(uows, owner.account_id) == (2_020_00, 2_020_00)


async def test_other_accounts_services_and_garbage_buttons(client, shop, uows):
    other = await new_account(uows, owner_tg=9000, name="Other")
    await fund(uows, other, 1_000_00)
    theirs = (await order(uows, other, "chat_widget")).service.id
    c = client(OWNER)
    for data in (f"sv:card:{theirs}:0", f"sv:discy:{theirs}:1", f"sv:off:{theirs}:0"):
        reply = await c.press(data)
        assert "нет такой услуги" in reply.alert
    assert (await load(uows, theirs)).status == "ordered"
    for data in ("sv:explode:1:0", "sv:card:x:0", "ct:buy:teleport:abcdef", "ct:pick:a:b:c"):
        reply = await c.press(data)
        assert reply.answered_callback and reply.alert


async def test_a_long_journal_fits_one_message(client, shop, uows):
    await fund(uows, shop["owner"], 200_000_00)
    for _ in range(30):
        await order(uows, shop["owner"], "multitracking")
    reply = await client(OWNER).send("/services")
    assert len(reply.text) <= 4096
    assert "…и ещё 5." in reply.text
    assert len(reply.buttons) == 26 and reply.buttons[-1] == "➕ Заказать услугу"


async def test_the_order_quote_tells_which_renewals_the_charge_leaves_uncovered(client, shop, uows):
    owner = shop["owner"]
    await fund(uows, owner, 6_000_00)
    for code in ("chat_widget", "callback_widget", "analytics_export"):
        await order(uows, owner, code)
    await run_lifecycle(uows)  # balance 1 620 ₽; 22 Dec (1 380 ₽) is covered
    c = client(OWNER)
    await c.send("/services")
    await c.click("Заказать услугу")
    quote = plain((await c.click("Онлайн-чат")).text)
    assert "Продлится 22.12.2026." in quote
    assert (
        "Баланса хватит на продления до 22.12.2026 (сейчас — на продления до 22.01.2027)." in quote
    )
    assert (
        "⚠️ После списания баланса не хватит на:\n"
        "• 22.12.2026: Обратный звонок, 590,00 ₽\n"
        "• 22.12.2026: Онлайн-чат, 790,00 ₽" in quote
    )
    await c.send("/lang en")
    await c.send("/services")
    await c.click("Order a service")
    en = plain((await c.click("Chat widget")).text)
    assert "It renews on 22.12.2026." in en
    assert "• 22.12.2026: Callback widget, 590.00 ₽" in en
    assert (
        "The balance will cover renewals until 22.12.2026 (now: renewals until 22.01.2027)." in en
    )
