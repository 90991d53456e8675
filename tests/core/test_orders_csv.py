from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.errors import InvalidInput, PermissionDenied
from core.intake.csv_import import import_csv, parse_csv
from core.orders.models import Order
from tests.support.factories import join, new_account
from tests.support.orders import add_order

GOOD = (
    "number;customer;phone;total;comment\n"
    "1001;Иван Петров;+7 900 123-45-67;1 500,50;позвонить\n"
    "1002;Анна;;2000;\n"
)


async def stored(uows) -> dict[str, Order]:
    async with uows() as uow:
        return {o.number: o for o in await uow.session.scalars(select(Order))}


async def run(uows, actor, text: str | bytes, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    async with uows() as uow:
        return await import_csv(uow, actor, data, **kwargs)


@pytest.fixture
async def admin(uows):
    owner = await new_account(uows)
    return await join(uows, owner, 2000, "admin", username="admin")


async def test_semicolon_utf8_imports_every_row(uows, admin):
    summary = await run(uows, admin, GOOD)
    assert len(summary.imported) == 2 and summary.duplicates == [] and summary.rejected == []
    orders = await stored(uows)
    assert orders["1001"].total == 150_050 and orders["1001"].customer_phone == "+7 900 123-45-67"
    assert orders["1002"].customer_phone is None and orders["1002"].source == "csv"
    async with uows() as uow:
        created = await uow.session.scalar(
            select(func.count()).where(AuditEntry.action == "order.created")
        )
    assert created == 2


async def test_comma_cp1251_with_quotes_and_bom(uows, admin):
    text = 'Number,Customer,Total,Address\r\n7,"Пётр, ИП",99.90,"Москва, Тверская 1"\r\n'
    summary = await run(uows, admin, text.encode("cp1251"))
    assert len(summary.imported) == 1
    order = (await stored(uows))["7"]
    assert (order.customer_name, order.total, order.customer_address) == (
        "Пётр, ИП",
        9_990,
        "Москва, Тверская 1",
    )
    again = await run(uows, admin, "\ufeffnumber;customer;total\n8;Мария;1\n")
    assert len(again.imported) == 1


async def test_bad_rows_block_the_whole_file_until_confirmed(uows, admin):
    text = GOOD + "1003;Олег;+7 900;100\n1004;;;5\n\n1005;Ира;;пять\n"
    summary = await run(uows, admin, text)
    assert summary.imported == [] and summary.valid == 2 and summary.needs_confirmation
    assert [(r.row, r.error.code, r.error.params["field"]) for r in summary.rejected] == [
        (4, "field_phone", "phone"),
        (5, "field_required", "customer"),
        (7, "field_amount", "total"),
    ]
    assert await stored(uows) == {}
    confirmed = await run(uows, admin, text, accept_partial=True)
    assert len(confirmed.imported) == 2 and len(confirmed.rejected) == 3
    assert set(await stored(uows)) == {"1001", "1002"}


async def test_duplicates_in_the_account_and_in_the_file_are_skipped(uows, admin):
    await add_order(uows, admin.account_id, "1001")
    await add_order(uows, admin.account_id, "X", external_id="shop-9")
    text = GOOD + "1002;Анна-2;;1\n1010;Кто-то;;1\n"
    text = text.replace(
        "number;customer;phone;total;comment", "number;customer;phone;total;external_id"
    )
    text = text.replace("1010;Кто-то;;1", "1010;Кто-то;;1;shop-9")
    summary = await run(uows, admin, text)
    assert [(d.row, d.number) for d in summary.duplicates] == [
        (2, "1001"),
        (4, "1002"),
        (5, "1010"),
    ]
    assert len(summary.imported) == 1
    assert set(await stored(uows)) == {"1001", "X", "1002"}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "csv_empty"),
        (b"\n\n", "csv_empty"),
        (b"number customer total\n1 2 3\n", "csv_header"),
        (b"number;total\n1;2\n", "csv_columns"),
        (b"\x98\x98\x98;\n", "csv_encoding"),
        (b"number;customer;total\n" + b"1;a;1\n" * 5001, "csv_too_many_rows"),
        (b"x" * (1024 * 1024 + 1), "csv_too_big"),
    ],
)
async def test_bad_files_are_refused_whole(uows, admin, data, code):
    with pytest.raises(InvalidInput) as err:
        await run(uows, admin, data)
    assert err.value.code == code
    assert await stored(uows) == {}


async def test_missing_columns_are_named():
    with pytest.raises(InvalidInput) as err:
        parse_csv(b"number;phone\n1;2\n")
    assert err.value.params["missing"] == "customer, total"


async def test_managers_cannot_import(uows, admin):
    manager = await join(uows, admin, 3001)
    with pytest.raises(PermissionDenied):
        await run(uows, manager, GOOD)
    assert await stored(uows) == {}


async def test_rows_with_characters_postgresql_cannot_store_are_row_errors(uows, admin):
    text = (
        "number;customer;total;comment;external_id\n"
        "2001;Иван\x00Петров;100;;\n"
        "2002;Анна;200;позвонить\x00;\n"
        "2003;Олег;300;;ext-\x00-1\n"
        "2004;Ира;400;всё хорошо;ext-4\n"
    )
    summary = await run(uows, admin, text)
    assert [(r.row, r.error.code, r.error.params["field"]) for r in summary.rejected] == [
        (2, "field_characters", "customer"),
        (3, "field_characters", "comment"),
        (4, "field_characters", "external_id"),
    ]
    assert summary.imported == [] and await stored(uows) == {}
    partial = await run(uows, admin, text, accept_partial=True)  # the clean row goes in
    assert len(partial.imported) == 1
    assert set(await stored(uows)) == {"2004"}
