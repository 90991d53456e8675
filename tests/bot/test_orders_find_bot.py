"""Issue #21 through the bot: /find, /order №…, tabs that reset the filter, plurals, UTF-16."""

from __future__ import annotations

from tests.support.orders import add_order

ADMIN, PETYA = 2000, 3001
WITH_ERRORS = "number;customer;total\n1001;Иван;1500\n1002;Анна;2000\n1003;Олег;много\n"


async def test_find_by_number_phone_and_name(client, shop, uows):
    account = shop["owner"].account_id
    await add_order(uows, account, "10200", customer_name="Иван Петров")
    await add_order(uows, account, "10201", customer_name="Анна Смирнова", customer_phone=None)
    admin = client(ADMIN, username="admin")
    by_phone = await admin.send("/find 8 900 123 45 67")
    assert "Найден 1 заказ" in by_phone.text
    assert next(b for b in by_phone.buttons if "№" in b).startswith("🆕 №10200 · Иван Петров")
    by_name = await admin.send("/find анна")
    assert next(b for b in by_name.buttons if "№" in b).startswith("🆕 №10201 · Анна Смирнова")
    two = await admin.send("/find 1020")  # not a number, not a phone of anyone, no name
    assert "ничего не найдено" in two.text
    usage = await admin.send("/find")
    assert "/find 1042" in usage.text


async def test_order_number_with_sign_or_invisible_characters(client, shop, uows):
    await add_order(uows, shop["owner"].account_id, "10200")
    admin = client(ADMIN, username="admin")
    assert "№10200" in (await admin.send("/order №10200")).text
    assert "№10200" in (await admin.send("/order 10200\u200b")).text
    extra = await admin.send("/order 10200 extra")
    assert extra.text.startswith("«10200 extra» — не номер заказа")
    assert "number" not in extra.text


async def test_switching_tabs_drops_the_status_filter(client, shop, uows):
    await add_order(uows, shop["owner"].account_id, "C")
    admin = client(ADMIN, username="admin")
    await admin.send("/orders")
    await admin.click("Все")
    filtered = await admin.click("🔄")  # nothing in work
    assert "Статус: в работе" in filtered.text
    free = await admin.click("Свободные")
    assert "Статус: все" in free.text
    assert [b for b in free.buttons if "№" in b] == [b for b in free.buttons if "№C" in b] != []


async def test_csv_counts_use_plural_forms(client, shop, uows):
    admin = client(ADMIN, username="admin")
    reply = await admin.send_document("orders.csv", WITH_ERRORS.encode())
    assert "Импортировать 2 правильные строки" in reply.text
    assert reply.buttons[0] == "✅ Импортировать 2 строки"


async def test_a_utf16_file_is_told_its_encoding(client, shop, uows):
    admin = client(ADMIN, username="admin")
    reply = await admin.send_document("orders.csv", WITH_ERRORS.encode("utf-16"))
    assert "UTF-8 или Windows-1251" in reply.text


async def test_a_pending_import_survives_another_dialog_and_expires(client, shop, uows, clock):
    from datetime import timedelta

    from sqlalchemy import select

    from core.orders.models import Order

    admin = client(ADMIN, username="admin")
    first = await admin.send_document("orders.csv", WITH_ERRORS.encode())
    assert "другие команды и диалоги за это время его не отменяют" in first.text
    await admin.send("/neworder")  # another dialog starts…
    await admin.send("/cancel")  # …and ends
    done = await admin.click("Импортировать 2 строки")
    assert "Импортировано: 2" in done.text
    async with uows() as uow:
        assert set(await uow.session.scalars(select(Order.number))) == {"1001", "1002"}
    late = await admin.send_document("late.csv", WITH_ERRORS.replace("100", "200").encode())
    assert "Импортировать 2 строки" in " ".join(late.buttons)
    clock.advance(timedelta(hours=25))
    expired = await admin.click("Импортировать 2 строки")
    assert expired.alert == "Этот импорт ждал больше суток и устарел. Отправьте файл снова."


async def test_a_long_result_says_there_may_be_more(client, shop, uows):
    from bot.orders.render import FOUND_SHOWN

    for n in range(FOUND_SHOWN + 1):
        await add_order(uows, shop["owner"].account_id, f"77{n:02}", customer_name="Анна Орлова")
    admin = client(ADMIN, username="admin")
    reply = await admin.send("/find анна")
    assert (
        f"\nСамые новые {FOUND_SHOWN} заказов по запросу «анна» (могут быть и другие"
        in reply.text
    )
    assert "заказов по запросу" not in reply.text.replace("Самые новые 20 заказов по", "")
    await admin.send("/lang en")
    english = await admin.send("/find анна")
    assert f"\nThe newest {FOUND_SHOWN} orders for “анна” (there may be" in english.text
