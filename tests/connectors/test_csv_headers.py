"""CSV import reads Russian column names and the platforms' own export columns."""

from __future__ import annotations

from datetime import UTC, datetime

from core.intake.csv_import import parse_csv


def test_russian_headers():
    data = (
        "Номер;Клиент;Сумма;Телефон;Почта;Адрес доставки;Комментарий;Дата\n"
        "1042;Анна;1 500,50;+7 900 123-45-67;a@example.com;Москва;Позвонить;"
        "2026-11-21T18:15:47+03:00\n"
    )
    parsed = parse_csv(data.encode("cp1251"))
    assert parsed.rejected == []
    [row] = parsed.rows
    order = row.order
    assert (order.number, order.customer_name, order.total) == ("1042", "Анна", 150050)
    assert (order.customer_phone, order.customer_email) == ("+7 900 123-45-67", "a@example.com")
    assert (order.customer_address, order.comment) == ("Москва", "Позвонить")
    assert order.placed_at == datetime(2026, 11, 21, 15, 15, 47, tzinfo=UTC)


def test_a_shopify_export():
    data = (
        "Name,Email,Financial Status,Currency,Total,Created at,Billing Name,Billing Phone,"
        "Shipping Street,Notes,Id\n"
        "#1021,anna@example.com,paid,USD,49.90,2026-11-21 18:15:47 +0300,Anna Petrova,"
        "+14155552671,Main St 1,Leave at door,820982911946154508\n"
    )
    [row] = parse_csv(data.encode()).rows
    order = row.order
    assert (order.number, order.customer_name, order.total, order.currency) == (
        "1021",
        "Anna Petrova",
        4990,
        "USD",
    )
    assert order.external_id == "820982911946154508"
    assert order.placed_at == datetime(2026, 11, 21, 15, 15, 47, tzinfo=UTC)


def test_a_woocommerce_export_and_a_tilda_one():
    woo = (
        "Order ID,Order Number,Order Date,Customer Name,Billing Phone,Billing Email,"
        "Order Total,Customer Note\n"
        "727,727,2026-11-21T15:15:47+00:00,Иван Сидоров,+79031112233,ivan@example.com,1500.00,\n"
    )
    [row] = parse_csv(woo.encode()).rows
    assert (row.order.number, row.order.customer_name, row.order.total) == (
        "727",
        "Иван Сидоров",
        150000,
    )
    tilda = "orderid;Name;Phone;Email;amount\n1755001;Мария;+79265554433;m@example.com;1200\n"
    [row] = parse_csv(tilda.encode()).rows
    assert (row.order.number, row.order.customer_name, row.order.total) == (
        "1755001",
        "Мария",
        120000,
    )
