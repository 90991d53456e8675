"""An admin sends a .csv file; the bot imports it all-or-nothing and answers with a summary."""

from __future__ import annotations

from sqlalchemy import select

from core.orders.models import Order
from tests.support.orders import add_order

GOOD = "number;customer;phone;total\n1001;Иван;+7 900 123-45-67;1500\n1002;Анна;;2000,50\n"
WITH_ERRORS = GOOD + "1003;Олег;позвоните;100\n1004;Ира;;много\n"


async def numbers(uows) -> set[str]:
    async with uows() as uow:
        return set(await uow.session.scalars(select(Order.number)))


async def test_clean_file_is_imported_and_announced(client, shop, uows, app, deliver):
    await client(3001, username="petya").send("/notify orders on")
    reply = await client(2000, username="admin").send_document("orders.csv", GOOD.encode())
    summary = reply.texts[0]
    assert "orders.csv" in summary
    assert "Импортировано: 2 · пропущено дубликатов: 0 · отклонено: 0" in summary
    assert await numbers(uows) == {"1001", "1002"}
    assert await deliver() == 2  # the announcements, written with the orders
    announced = [m.text for m in app.bot.session.requests if getattr(m, "chat_id", None) == 3001]
    assert any("Новый заказ №1001" in t for t in announced)


async def test_cp1251_comma_file(client, shop, uows):
    data = "number,customer,total\n7,Пётр,99.90\n".encode("cp1251")
    reply = await client(2000, username="admin").send_document("заказы.CSV", data)
    assert "Импортировано: 1" in reply.texts[0]
    assert await numbers(uows) == {"7"}


async def test_file_with_errors_waits_for_confirmation(client, shop, uows):
    admin = client(2000, username="admin")
    await add_order(uows, shop["owner"].account_id, "1002")
    reply = await admin.send_document("orders.csv", WITH_ERRORS.encode())
    assert "Импортировано: 0 · пропущено дубликатов: 1 · отклонено: 2" in reply.text
    assert "строка 4: phone: это не номер телефона" in reply.text
    assert "строка 5: total: это не сумма" in reply.text
    assert "строка 3 (№1002)" in reply.text
    assert reply.buttons == ["✅ Импортировать 1 строку", "✖ Отмена"]
    assert await numbers(uows) == {"1002"}
    done = await admin.click("Импортировать")
    assert "Импортировано: 1" in done.texts[0]
    assert await numbers(uows) == {"1001", "1002"}
    stale = await admin.press("csv:1")
    assert stale.alert == "Этот импорт уже не ждёт подтверждения. Отправьте файл ещё раз."
    assert await numbers(uows) == {"1001", "1002"}


async def test_cancel_imports_nothing(client, shop, uows):
    admin = client(2000, username="admin")
    await admin.send_document("orders.csv", WITH_ERRORS.encode())
    reply = await admin.click("Отмена")
    assert reply.text == "Импорт отменён: ничего не сохранено."
    assert await numbers(uows) == set()


async def test_bad_files_get_clear_answers(client, shop, uows):
    admin = client(2000, username="admin")
    photo = await admin.send_document("photo.jpg", b"\xff\xd8", mime_type="image/jpeg")
    assert "импортирую заказы из файлов .csv" in photo.text
    big = await admin.send_document("big.csv", b"x", file_size=5 * 1024 * 1024)
    assert "Файл слишком большой" in big.text
    empty = await admin.send_document("empty.csv", b"")
    assert empty.text == "Файл пустой."
    columns = await admin.send_document("cols.csv", b"number;phone\n1;2\n")
    assert "нет обязательных колонок: customer, total" in columns.text
    nothing = await admin.send_document("bad.csv", b"number;customer;total\n1;;x\n")
    assert "Импортировать нечего" in nothing.text and nothing.buttons == []
    assert await numbers(uows) == set()


async def test_manager_cannot_import(client, shop, uows):
    reply = await client(3001, username="petya").send_document("orders.csv", GOOD.encode())
    assert reply.text == "У вас нет прав на это действие."
    assert await numbers(uows) == set()


async def test_a_row_with_a_nul_byte_is_a_row_error(client, shop, uows):
    admin = client(2000, username="admin")
    reply = await admin.send_document("orders.csv", (GOOD + "1003;Ол\x00ег;;100\n").encode())
    assert "отклонено: 1" in reply.text
    assert "строка 4: customer: есть символы, которые нельзя сохранить" in reply.text
    assert await numbers(uows) == set()
    done = await admin.click("Импортировать")
    assert "Импортировано: 2" in done.texts[0]
    assert await numbers(uows) == {"1001", "1002"}
