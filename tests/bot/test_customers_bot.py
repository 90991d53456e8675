"""Issue #22 through the bot: the customer's line on the order card (both languages), the
customer's card and who sees what on it, customers in /find, /merge_customers for admins."""

from __future__ import annotations

from sqlalchemy import select

from bot.customers.callbacks import CustomerCb
from core.orders import service as orders
from core.orders.models import Order
from tests.support.orders import add_order

ADMIN, PETYA, VASYA = 2000, 3001, 3002
IVAN = {"customer_name": "Иван Петров", "customer_phone": "+7 900 123-45-67"}


async def repeat_customer(uows, shop) -> list[int]:
    """Ivan's three orders (phone written three ways): Petya's two completed, Vasya's one."""
    account, owner = shop["owner"].account_id, shop["owner"]
    ids = [
        await add_order(uows, account, "101", total=150_000, **IVAN),
        await add_order(
            uows, account, "102", total=250_000, **{**IVAN, "customer_phone": "89001234567"}
        ),
        await add_order(
            uows, account, "103", total=50_000, **{**IVAN, "customer_phone": "+79001234567"}
        ),
    ]
    for order_id, member in ((ids[0], shop["m1"]), (ids[1], shop["m1"]), (ids[2], shop["m2"])):
        async with uows() as uow:
            await orders.assign_order(uow, owner, order_id, member.member_id)
    for order_id in ids[:2]:
        for status in ("in_progress", "completed"):
            async with uows() as uow:
                await orders.change_status(uow, shop["m1"], order_id, status)
    return ids


async def test_the_order_card_shows_the_customers_history_in_both_languages(client, shop, uows):
    await repeat_customer(uows, shop)
    admin = client(ADMIN, username="admin")
    card = await admin.send("/order 103")
    assert (
        "👤 Покупатель: 3 заказа, куплено на 4\u00a0000,00\u00a0₽; первый 22.11.2026, "
        "последний 22.11.2026; обычно ведёт @petya"
    ) in card.text
    assert "👤 Покупатель" in card.buttons
    await admin.send("/lang en")
    english = await admin.send("/order 103")
    assert (
        "👤 Customer: 3 orders, 4,000.00\u00a0₽ spent; first 22.11.2026, last 22.11.2026; "
        "usually with @petya"
    ) in english.text
    assert "👤 Customer" in english.buttons


async def test_a_first_order_says_so_and_one_order_is_singular(client, shop, uows):
    await add_order(
        uows, shop["owner"].account_id, "201", customer_name="Анна", customer_phone=None
    )
    admin = client(ADMIN, username="admin")
    assert "👤 Новый покупатель: это его первый заказ." in (await admin.send("/order 201")).text
    found = await admin.send("/find Анна")
    assert "Найден 1 покупатель по запросу «Анна»" in found.text
    assert found.buttons[0] == "👤 Анна · 1 заказ"


async def test_the_customer_card_shows_a_managers_colleagues_orders_in_brief(client, shop, uows):
    await repeat_customer(uows, shop)
    petya = client(PETYA, username="petya")
    await petya.send("/order 101")
    card = await petya.click("👤 Покупатель")
    assert "<b>👤 Иван Петров</b>" in card.text
    assert "Телефон: +7 900 123-45-67" in card.text  # one way of writing it, readable
    rows = [b for b in card.buttons if "№" in b]
    assert len(rows) == 3
    # His own orders with the customer's name, Vasya's in brief (no name).
    assert rows[0].startswith("🆕 №103 · 500,00") and "Иван" not in rows[0]
    assert rows[1].startswith("✅ №102 · Иван Петров")
    assert "/merge_customers" not in card.text  # managers don't merge
    back = await petya.click("« Назад")
    assert "Заказ №101" in back.text
    # Vasya's order card shows Ivan to Vasya; Vasya's card of Ivan too.
    vasya = client(VASYA, username="vasya")
    await vasya.send("/order 103")
    assert "Иван Петров" in (await vasya.click("👤 Покупатель")).text


async def test_a_member_without_the_customers_orders_is_refused_the_card(client, shop, uows):
    await add_order(uows, shop["owner"].account_id, "301", **IVAN)  # nobody's yet
    async with uows() as uow:
        customer_id = await uow.session.scalar(select(Order.customer_id))
    petya = client(PETYA, username="petya")
    refused = await petya.press(CustomerCb(customer_id=customer_id).pack())
    assert "Данные покупателя видны тем, кто ведёт его заказы" in refused.alert
    assert not refused.messages  # nothing of Ivan is shown
    found = await petya.send("/find 89001234567")
    assert "покупател" not in found.text
    assert [b for b in found.buttons if "№301" in b] and not [b for b in found.buttons if "👤" in b]


async def test_only_admins_merge_customers(client, shop, uows):
    account = shop["owner"].account_id
    await add_order(uows, account, "401", **IVAN, customer_email=None)
    await add_order(
        uows,
        account,
        "402",
        customer_name="И. Петров",
        customer_phone=None,
        customer_email="i@x.ru",
    )
    async with uows() as uow:
        first, second = (
            await uow.session.scalars(select(Order.customer_id).order_by(Order.number))
        ).all()
    assert first != second
    petya = client(PETYA, username="petya")
    assert "нет прав" in (await petya.send(f"/merge_customers {first} {second}")).text
    admin = client(ADMIN, username="admin")
    assert "/merge_customers 12 15" in (await admin.send("/merge_customers 1")).text
    assert "один и тот же" in (await admin.send(f"/merge_customers {first} {first}")).text
    done = await admin.send(f"/merge_customers #{first} {second}")
    assert f"✅ Покупатель №{second} объединён с №{first}" in done.text
    assert "Email: i@x.ru" in done.text
    assert len([b for b in done.buttons if "№" in b]) == 2
    async with uows() as uow:
        assert set(await uow.session.scalars(select(Order.customer_id))) == {first}
    history = await admin.send("/history")
    assert "покупатели объединены\n    покупатель: И. Петров → Иван Петров" in history.text


async def test_nothing_bought_yet_leaves_the_money_out(client, shop, uows):
    account = shop["owner"].account_id
    await add_order(uows, account, "501", **IVAN)
    await add_order(uows, account, "502", **IVAN)
    card = await client(ADMIN, username="admin").send("/order 502")
    assert card.text.endswith("👤 Покупатель: 2 заказа; первый 22.11.2026, последний 22.11.2026")
