"""Issue #21, orders lists and cards: /find, order numbers as typed, what the tabs hold."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import InvalidInput
from core.orders import service as orders
from core.orders.models import OrderStatus
from core.orders.search import find_orders
from core.orders.service import OrderTab
from tests.support.factories import join, new_account
from tests.support.orders import add_order


@pytest.fixture
async def shop(uows):
    owner = await new_account(uows)
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    account = owner.account_id
    ids = {
        "A-100": await add_order(
            uows, account, "A-100", customer_name="Иван Петров", customer_phone="+7 900 123-45-67"
        ),
        "200": await add_order(
            uows, account, "200", customer_name="Мария Иванова", customer_phone="8 (901) 000-11-22"
        ),
        "300": await add_order(
            uows, account, "300", customer_name="John Smith", customer_phone="+44 20 7946 0958"
        ),
        "400": await add_order(
            uows, account, "400", customer_name="Иван Сидоров", customer_phone=None
        ),
    }
    async with uows() as uow:
        await orders.assign_order(uow, owner, ids["A-100"], petya.member_id)
    async with uows() as uow:
        await orders.assign_order(uow, owner, ids["200"], vasya.member_id)
    async with uows() as uow:
        await orders.change_status(uow, owner, ids["400"], "cancelled", "duplicate")
    return {"owner": owner, "petya": petya, "vasya": vasya, "ids": ids}


async def find(uows, actor, query):
    async with uows() as uow:
        return [s.number for s in await find_orders(uow, actor, query)]


async def test_a_number_is_found_as_people_type_it(uows, shop):
    for query in ("A-100", "a-100", "№A-100", "#a-100", "\u200bA-100\u200b", " №\u2060a-100 "):
        assert await find(uows, shop["owner"], query) == ["A-100"], query


async def test_a_phone_is_found_in_any_format(uows, shop):
    for query in ("+7 900 123-45-67", "89001234567", "+79001234567", "9001234567", "900 1234567"):
        assert await find(uows, shop["owner"], query) == ["A-100"], query


async def test_a_phone_written_with_8_finds_the_one_stored_with_8(uows, shop):
    assert await find(uows, shop["owner"], "+7 901 000 11 22") == ["200"]


NAMES = [
    ("иван", ["400", "200", "A-100"]),  # Иванова starts with it too
    ("ИВАН П", ["A-100"]),
    ("Петров", ["A-100"]),
    ("иванова", ["200"]),
    ("john", ["300"]),
    ("SMI", ["300"]),
    ("ван", []),  # a prefix, not any substring
]


async def test_a_name_is_found_by_its_beginning_in_any_case(uows, shop):
    for query, found in NAMES:
        assert await find(uows, shop["owner"], query) == found, query


async def test_a_manager_finds_colleagues_orders_in_brief(uows, shop):
    petya = shop["petya"]
    async with uows() as uow:
        [by_name] = await find_orders(uow, petya, "Мария")  # vasya's customer
    assert by_name.assignee == "@vasya" and by_name.customer is None  # found, shown in brief
    async with uows() as uow:
        [row] = await find_orders(uow, petya, "200")
    assert row.assignee == "@vasya" and row.customer is None
    async with uows() as uow:
        [own] = await find_orders(uow, petya, "иван п")
    assert own.number == "A-100" and own.customer == "Иван Петров"


async def test_an_empty_query_is_refused(uows, shop):
    with pytest.raises(InvalidInput) as err:
        await find(uows, shop["owner"], " \u200b ")
    assert err.value.code == "find_query"


async def test_order_by_number_ignores_sign_invisible_chars_and_case(uows, shop):
    for typed in ("№A-100", "a-100", "\u200bA-100", "#A-100"):
        async with uows() as uow:
            card = await orders.order_card_by_number(uow, shop["owner"], typed)
        assert card.summary.number == "A-100", typed


async def test_a_number_followed_by_words_is_refused_without_a_field_name(uows, shop):
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await orders.order_card_by_number(uow, shop["owner"], "A-100 extra")
    assert err.value.code == "order_number_lookup"
    assert "field" not in err.value.params


async def test_unassigned_holds_open_orders_only(uows, shop):
    async with uows() as uow:
        page = await orders.list_orders(uow, shop["owner"], OrderTab.UNASSIGNED)
    assert [r.number for r in page.rows] == ["300"]
    assert all(r.status in (OrderStatus.NEW, OrderStatus.IN_PROGRESS) for r in page.rows)


async def test_rows_show_the_customer_where_the_card_would(uows, shop):
    async with uows() as uow:
        mine = await orders.list_orders(uow, shop["petya"], OrderTab.MINE)
    async with uows() as uow:
        team = await orders.list_orders(uow, shop["petya"], OrderTab.ALL)
    assert [(r.number, r.customer) for r in mine.rows] == [("A-100", "Иван Петров")]
    assert {r.number: r.customer for r in team.rows}["200"] is None
    async with uows() as uow:
        everything = await orders.list_orders(uow, shop["owner"], OrderTab.ALL)
    assert {r.number: r.customer for r in everything.rows}["200"] == "Мария Иванова"


async def test_mine_opens_on_open_orders_oldest_first_and_pages_on(uows, clock):
    owner = await new_account(uows)
    petya = await join(uows, owner, 3001, username="petya")
    numbers = [f"M{i:02}" for i in range(12)]
    for number in numbers:
        clock.advance(timedelta(minutes=5))
        order_id = await add_order(uows, owner.account_id, number)
        async with uows() as uow:
            await orders.assign_order(uow, owner, order_id, petya.member_id)
        if number == "M01":
            async with uows() as uow:
                await orders.change_status(uow, petya, order_id, "in_progress")
            async with uows() as uow:
                await orders.change_status(uow, petya, order_id, "completed")
    async with uows() as uow:
        first = await orders.list_orders(uow, petya)
    assert first.tab == OrderTab.MINE and first.open_only
    waiting = [n for n in numbers if n != "M01"]
    assert [r.number for r in first.rows] == waiting[:10]
    assert first.newer is None and first.older is not None
    async with uows() as uow:
        second = await orders.list_orders(
            uow, petya, OrderTab.MINE, after=first.older, open_only=True
        )
    assert [r.number for r in second.rows] == waiting[10:]
    async with uows() as uow:
        back = await orders.list_orders(
            uow, petya, OrderTab.MINE, before=second.newer, open_only=True
        )
    assert [r.number for r in back.rows] == waiting[:10]
    async with uows() as uow:
        everything = await orders.list_orders(uow, petya, OrderTab.MINE, open_only=False)
    assert [r.number for r in everything.rows] == numbers[::-1][:10]  # any status, newest first
