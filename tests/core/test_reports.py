"""Sales report figures against hand-computed expectations (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from core.errors import NotFound, PermissionDenied
from core.members.permissions import Perm
from core.orders.models import OrderStatus
from core.orders.service import assign_order, change_status, claim_order
from core.reports.periods import Period, PeriodKind, custom_period, period_of
from core.reports.service import Figures, Scope, report_orders, sales_report
from tests.support.factories import join, new_account
from tests.support.orders import add_order

TODAY = date(2026, 11, 22)  # T0 = 09:00 UTC = 12:00 in Moscow
DAY = period_of(PeriodKind.TODAY, TODAY)


@pytest.fixture
async def shop(uows):
    owner = await new_account(uows, name="Shop")
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    return {"owner": owner, "admin": admin, "petya": petya, "vasya": vasya}


async def claim(uows, actor, order_id):
    async with uows() as uow:
        await claim_order(uow, actor, order_id)


async def set_status(uows, actor, order_id, status):
    async with uows() as uow:
        await change_status(uow, actor, order_id, status, "duplicate")  # a cancel gives a reason


async def assign(uows, actor, order_id, member_id):
    async with uows() as uow:
        await assign_order(uow, actor, order_id, member_id)


async def complete(uows, actor, order_id):
    await set_status(uows, actor, order_id, OrderStatus.COMPLETED)


async def report(uows, actor, period=DAY, member_id=None):
    async with uows() as uow:
        return await sales_report(uow, actor, period, member_id)


def by_name(result):
    return {row.name: row for row in result.rows}


async def working_day(uows, shop) -> None:
    """Petya completes A (3 000 ₽) and B (1 500 ₽); Vasya cancels C (5 000 ₽); D (2 000 ₽) is
    claimed by Petya, reassigned to Vasya and completed by him; Vasya keeps E (1 000 ₽) open;
    F (700 ₽) waits unassigned."""
    account = shop["owner"].account_id
    petya, vasya, admin = shop["petya"], shop["vasya"], shop["admin"]
    totals = {"A": 300_000, "B": 150_000, "C": 500_000, "D": 200_000, "E": 100_000, "F": 70_000}
    ids = {n: await add_order(uows, account, n, total=t) for n, t in totals.items()}
    for number in ("A", "B", "D"):
        await claim(uows, petya, ids[number])
    for number in ("C", "E"):
        await claim(uows, vasya, ids[number])
    await complete(uows, petya, ids["A"])
    await complete(uows, petya, ids["B"])
    await set_status(uows, vasya, ids["C"], OrderStatus.CANCELLED)
    await assign(uows, admin, ids["D"], vasya.member_id)
    await complete(uows, vasya, ids["D"])


async def test_figures_per_member_with_cancelled_and_reassigned_orders(uows, shop):
    await working_day(uows, shop)
    result = await report(uows, shop["admin"])
    rows = by_name(result)
    assert result.scope == Scope.TEAM
    # Petya: A + B = 4 500 ₽ of 6 500 ₽ → 69.2 %; the reassigned D is not his.
    assert rows["@petya"].figures == Figures(completed=2, revenue=450_000, open=0)
    assert rows["@petya"].figures.average == 225_000
    assert rows["@petya"].share == 692
    # Vasya: D only (C was cancelled) → 2 000 ₽, 30.8 %; E still open.
    assert rows["@vasya"].figures == Figures(completed=1, revenue=200_000, open=1)
    assert rows["@vasya"].figures.average == 200_000
    assert rows["@vasya"].share == 308
    # F: open, nobody's.
    assert result.rows[-1].member_id is None and result.rows[-1].figures.open == 1
    assert result.totals == Figures(completed=3, revenue=650_000, open=2)
    assert result.totals.average == 216_667  # 6 500 / 3 = 2 166,666… ₽, rounded half-up
    # Sorted by revenue; members with nothing yet are listed with zeros, the unassigned last.
    names = [row.name for row in result.rows]
    assert names[:2] == ["@petya", "@vasya"] and names[-1] is None
    assert rows["@admin"].figures == Figures() and rows["@admin"].share == 0
    assert result.other_currency == 0


async def test_cancelled_orders_are_counted_per_reason(uows, shop, clock):
    await working_day(uows, shop)  # Vasya cancels C as a duplicate
    account, admin = shop["owner"].account_id, shop["admin"]
    ids = [await add_order(uows, account, n) for n in ("G", "H", "I")]
    for order_id, reason in zip(ids, ("out_of_stock", "out_of_stock", "Клиент уехал"), strict=True):
        async with uows() as uow:
            await change_status(uow, admin, order_id, OrderStatus.CANCELLED, reason)
    result = await report(uows, admin)
    assert [(c.reason, c.count) for c in result.cancelled] == [
        ("out_of_stock", 2),
        ("duplicate", 1),
        ("Клиент уехал", 1),
    ]
    vasya = await report(uows, admin, member_id=shop["vasya"].member_id)
    assert [(c.reason, c.count) for c in vasya.cancelled] == [("duplicate", 1)]
    clock.advance(timedelta(days=1))
    tomorrow = await report(uows, admin, period_of(PeriodKind.TODAY, TODAY + timedelta(days=1)))
    assert tomorrow.cancelled == ()


async def test_reopened_order_counts_once_on_its_final_completion(uows, shop, clock):
    account = shop["owner"].account_id
    clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    order = await add_order(uows, account, "R", total=120_000)
    await claim(uows, shop["petya"], order)
    clock.set(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))  # yesterday
    await complete(uows, shop["petya"], order)
    yesterday = period_of(PeriodKind.TODAY, TODAY - timedelta(days=1))
    assert (await report(uows, shop["admin"], yesterday)).totals.revenue == 120_000
    clock.set(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    await set_status(uows, shop["admin"], order, OrderStatus.IN_PROGRESS)  # reopened
    assert (await report(uows, shop["admin"], yesterday)).totals.completed == 0
    assert by_name(await report(uows, shop["admin"]))["@petya"].figures.completed == 0
    await complete(uows, shop["petya"], order)
    week = period_of(PeriodKind.WEEK, TODAY)
    assert by_name(await report(uows, shop["admin"], week))["@petya"].figures == Figures(
        completed=1, revenue=120_000
    )


async def test_midnight_edges_in_the_account_zone(uows, shop, clock):
    """Moscow is UTC+3: 20:59:59 UTC is 23:59:59 of the same day, 21:00 UTC is the next one."""
    account = shop["owner"].account_id
    clock.set(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    late = await add_order(uows, account, "L", total=10_000)
    early = await add_order(uows, account, "E", total=20_000)
    await claim(uows, shop["petya"], late)
    await claim(uows, shop["petya"], early)
    clock.set(datetime(2026, 11, 21, 20, 59, 59, tzinfo=UTC))
    await complete(uows, shop["petya"], late)
    await add_order(uows, account, "O1")  # still open, created on Saturday 23:59:59
    clock.set(datetime(2026, 11, 21, 21, 0, 0, tzinfo=UTC))
    await complete(uows, shop["petya"], early)
    await add_order(uows, account, "O2")  # still open, created on Sunday 00:00
    clock.set(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    saturday = custom_period(date(2026, 11, 21), date(2026, 11, 21))
    assert (await report(uows, shop["admin"], saturday)).totals == Figures(1, 10_000, open=1)
    assert (await report(uows, shop["admin"], DAY)).totals == Figures(1, 20_000, open=1)
    both = custom_period(date(2026, 11, 21), date(2026, 11, 22))
    assert (await report(uows, shop["admin"], both)).totals == Figures(2, 30_000, open=2)


async def test_month_boundaries_follow_another_zone(uows, clock):
    """An account in Vladivostok (UTC+10): 1 December local starts at 14:00 UTC on 30 Nov."""
    owner = await new_account(uows, owner_tg=5000, name="Far", timezone="Asia/Vladivostok")
    order_nov = await add_order(uows, owner.account_id, "N", total=11_100)
    order_dec = await add_order(uows, owner.account_id, "D", total=22_200)
    await claim(uows, owner, order_nov)
    await claim(uows, owner, order_dec)
    clock.set(datetime(2026, 11, 30, 13, 59, tzinfo=UTC))  # 23:59 on 30.11 local
    await complete(uows, owner, order_nov)
    clock.set(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))  # 00:00 on 01.12 local
    await complete(uows, owner, order_dec)
    december = period_of(PeriodKind.MONTH, date(2026, 12, 5))
    november = period_of(PeriodKind.LAST_MONTH, date(2026, 12, 5))
    assert (await report(uows, owner, december)).totals.revenue == 22_200
    assert (await report(uows, owner, november)).totals.revenue == 11_100


async def test_manager_sees_only_own_row(uows, shop):
    await working_day(uows, shop)
    petya = shop["petya"]
    result = await report(uows, petya)
    assert result.scope == Scope.OWN
    assert [row.name for row in result.rows] == ["@petya"]
    # Totals are the manager's own, not the team's: nothing about Vasya leaks.
    assert result.totals == Figures(completed=2, revenue=450_000)
    assert result.rows[0].share == 1000
    own = await report(uows, petya, member_id=petya.member_id)
    assert own.totals == result.totals
    with pytest.raises(PermissionDenied) as denied:
        await report(uows, petya, member_id=shop["vasya"].member_id)
    assert denied.value.code == "report_own_only"
    async with uows() as uow:
        with pytest.raises(PermissionDenied):
            await report_orders(uow, petya, DAY, shop["vasya"].member_id)
        mine = await report_orders(uow, petya, DAY)
    assert sorted(o.number for o in mine) == ["A", "B"]


async def test_reports_team_permission_opens_everyone_and_no_permission_closes(uows, shop):
    await working_day(uows, shop)
    senior = replace(shop["petya"], permissions=shop["petya"].permissions | {Perm.REPORTS_TEAM})
    assert {"@petya", "@vasya"} <= set(by_name(await report(uows, senior)))
    nobody = replace(shop["petya"], permissions=shop["petya"].permissions - {Perm.REPORTS_OWN})
    with pytest.raises(PermissionDenied) as denied:
        await report(uows, nobody)
    assert denied.value.params == {"permission": "reports.own"}


async def test_member_filter_and_foreign_member(uows, shop):
    await working_day(uows, shop)
    result = await report(uows, shop["owner"], member_id=shop["vasya"].member_id)
    assert [row.name for row in result.rows] == ["@vasya"]
    assert result.member_name == "@vasya"
    assert result.totals == Figures(completed=1, revenue=200_000, open=1)
    stranger = await new_account(uows, owner_tg=9000, name="Other")
    with pytest.raises(NotFound):
        await report(uows, shop["owner"], member_id=stranger.member_id)


async def test_other_currency_is_counted_not_summed(uows, shop):
    account = shop["owner"].account_id
    order = await add_order(uows, account, "U", total=9_900, currency="USD")
    await claim(uows, shop["petya"], order)
    await complete(uows, shop["petya"], order)
    result = await report(uows, shop["admin"])
    assert result.totals == Figures() and result.other_currency == 1
    assert not result.empty
    # The same member's orders in the account's currency are summed beside the USD one.
    rubles = await add_order(uows, account, "R", total=120_000)
    await claim(uows, shop["petya"], rubles)
    await complete(uows, shop["petya"], rubles)
    result = await report(uows, shop["admin"])
    assert by_name(result)["@petya"].figures == Figures(completed=1, revenue=120_000)
    assert result.other_currency == 1


async def test_sqlite_reads_the_period_not_every_order_of_the_account(uows, shop, engine):
    """SQLite plans without statistics (nothing runs ANALYZE): every orders query must still
    search by status and time, not walk the account in assignee order for its GROUP BY."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner")
    await working_day(uows, shop)
    statements = []

    def record(_conn, _cursor, statement, params, _context, _many) -> None:
        if "FROM orders" in statement:
            statements.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await report(uows, shop["admin"], period_of(PeriodKind.MONTH, TODAY))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    # figures: two GROUP BYs (the completed one with the median to completion); the median
    # time to claim; cancelled per reason
    assert len(statements) == 4
    async with engine.connect() as conn:
        for statement, params in statements:
            plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            searches = [row[-1] for row in plan if "orders" in row[-1]]
            assert searches and all(step.startswith("SEARCH") for step in searches), searches
            if "claimed_at >=" in statement:  # the speed's orders claimed in the period
                assert all("claimed_at>?" in step for step in searches), searches
            else:
                assert all("status=? AND" in step for step in searches), searches


async def test_underlying_orders_are_completed_and_still_open_ones(uows, shop):
    await working_day(uows, shop)
    async with uows() as uow:
        orders = await report_orders(uow, shop["admin"], DAY)
    assert sorted(o.number for o in orders) == ["A", "B", "D", "E", "F"]  # not the cancelled C
    d = next(o for o in orders if o.number == "D")
    assert d.assignee == "@vasya" and d.status == OrderStatus.COMPLETED and d.total == 200_000
    assert next(o for o in orders if o.number == "F").assignee is None
    async with uows() as uow:
        vasya = await report_orders(uow, shop["admin"], DAY, shop["vasya"].member_id)
    assert sorted(o.number for o in vasya) == ["D", "E"]


async def test_empty_period(uows, shop):
    result = await report(uows, shop["admin"], Period(PeriodKind.CUSTOM, TODAY, TODAY))
    assert result.empty and result.totals.average == 0
    assert all(row.figures == Figures() for row in result.rows)


def test_average_and_share_round_half_up():
    assert Figures(completed=2, revenue=100_001).average == 50_001
    assert Figures(completed=3, revenue=100).average == 33
    assert Figures(revenue=1).share_of(3) == 333
    assert Figures(revenue=2).share_of(3) == 667
    assert Figures(revenue=5).share_of(0) == 0
