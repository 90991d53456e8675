"""The board's queries on both databases: columns, counts, scope, search, stale marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from core.board.service import COUNT_CAP, Column, Scope, board, order_view, period_report
from core.errors import PermissionDenied
from core.orders.models import Order
from core.orders.service import assign_order, change_status, claim_order
from core.reports.periods import PeriodKind
from tests.support.factories import join, new_account
from tests.support.orders import add_order


@pytest.fixture
async def world(uows):
    owner = await new_account(uows)
    m1 = await join(uows, owner, 3001, username="petya")
    m2 = await join(uows, owner, 3002, username="vasya")
    account = owner.account_id
    ids = {
        n: await add_order(uows, account, n, customer_phone=f"+7 900 000-00-{n[-2:]}")
        for n in ("A-01", "A-02", "A-03", "A-04")
    }
    async with uows() as uow:
        await claim_order(uow, m1, ids["A-02"])
    async with uows() as uow:
        await assign_order(uow, owner, ids["A-03"], m2.member_id)
    async with uows() as uow:
        await claim_order(uow, m1, ids["A-04"])
    async with uows() as uow:
        await change_status(uow, m1, ids["A-04"], "completed")
    return {"owner": owner, "m1": m1, "m2": m2, "ids": ids}


def _numbers(found, column: Column) -> list[str]:
    [col] = [c for c in found.columns if c.column is column]
    return [row.order.number for row in col.rows]


async def test_columns_counts_and_scopes(uows, world):
    async with uows() as uow:
        team = await board(uow, world["m1"], Scope.TEAM, limit=1)
    counts = {c.column: c.count for c in team.columns}
    assert counts == {Column.NEW: 1, Column.IN_PROGRESS: 2, Column.DONE_TODAY: 1}
    assert len(_numbers(team, Column.IN_PROGRESS)) == 1  # limited rows, full count
    async with uows() as uow:
        mine = await board(uow, world["m1"])
    assert mine.scope is Scope.MINE
    assert _numbers(mine, Column.NEW) == ["A-01"]
    assert _numbers(mine, Column.IN_PROGRESS) == ["A-02"]
    assert _numbers(mine, Column.DONE_TODAY) == ["A-04"]
    async with uows() as uow:
        by_manager = await board(uow, world["owner"], Scope.TEAM, manager_id=world["m2"].member_id)
    assert _numbers(by_manager, Column.IN_PROGRESS) == ["A-03"]
    async with uows() as uow:
        with pytest.raises(PermissionDenied):
            await board(uow, world["m1"], Scope.TEAM, manager_id=world["m2"].member_id)


async def test_search_and_the_stale_mark(uows, world, clock):
    async with uows() as uow:
        found = await board(uow, world["m2"], Scope.TEAM, query="00-00-04")
    assert _numbers(found, Column.DONE_TODAY) == ["A-04"]
    # The mark follows the account's claim time (15 minutes) in working time: on a Sunday the
    # clock stands still; on Monday it runs from 09:00.
    clock.advance(timedelta(hours=3))
    async with uows() as uow:
        later = await board(uow, world["m2"], Scope.TEAM)
    [new] = [c for c in later.columns if c.column is Column.NEW]
    assert [row.stale for row in new.rows] == [False]
    assert _numbers(later, Column.DONE_TODAY) == ["A-04"]  # same local day in Moscow
    clock.set(datetime(2026, 11, 23, 6, 15, tzinfo=UTC))  # Monday 09:15 in Moscow
    async with uows() as uow:
        monday = await board(uow, world["m2"], Scope.TEAM)
    [new] = [c for c in monday.columns if c.column is Column.NEW]
    assert [row.stale for row in new.rows] == [True]


async def test_the_view_and_the_report(uows, world):
    async with uows() as uow:
        view = await order_view(uow, world["m1"], world["ids"]["A-03"])
    assert view.card.details is None and view.log is None and view.tasks == []
    async with uows() as uow:
        report = await period_report(uow, world["m1"], PeriodKind.TODAY)
    assert report.totals.completed == 1


async def test_in_progress_merges_both_open_statuses_newest_first(uows, world, clock):
    account, m1 = world["owner"].account_id, world["m1"]
    for number in ("B-1", "B-2", "B-3"):
        clock.advance(timedelta(minutes=1))
        order_id = await add_order(uows, account, number)
        async with uows() as uow:
            if number == "B-2":  # assigned, still new
                await assign_order(uow, world["owner"], order_id, m1.member_id)
            else:  # claimed: in progress
                await claim_order(uow, m1, order_id)
    async with uows() as uow:
        found = await board(uow, m1, Scope.TEAM, limit=4)
    assert _numbers(found, Column.IN_PROGRESS) == ["B-3", "B-2", "B-1", "A-03"]
    async with uows() as uow:
        top = await board(uow, m1, Scope.TEAM, limit=2)
    [column] = [c for c in top.columns if c.column is Column.IN_PROGRESS]
    assert _numbers(top, Column.IN_PROGRESS) == ["B-3", "B-2"] and column.count == 5


async def test_a_long_column_is_counted_up_to_the_cap(uows, world):
    account, m1 = world["owner"].account_id, world["m1"]
    async with uows() as uow:
        now = uow.clock.now()
        await uow.session.execute(
            insert(Order),
            [
                {
                    "account_id": account,
                    "number": f"C-{i}",
                    "source": "api",
                    "customer_name": "C",
                    "items": [],
                    "total": 100,
                    "currency": "RUB",
                    "status": "in_progress",
                    "assignee_id": m1.member_id,
                    "created_at": now + timedelta(hours=1, seconds=-i),
                    "updated_at": now,
                }
                for i in range(COUNT_CAP + 5)
            ],
        )
        await uow.commit()
    async with uows() as uow:
        found = await board(uow, m1, Scope.TEAM, limit=3)
    [column] = [c for c in found.columns if c.column is Column.IN_PROGRESS]
    assert column.count == COUNT_CAP + 1  # "more than COUNT_CAP"
    assert [row.order.number for row in column.rows] == ["C-0", "C-1", "C-2"]


async def test_the_team_count_of_work_in_progress_reads_the_open_orders_alone(uows, world, engine):
    """The team board counts In progress from the status index (the open orders only); the
    assignee index would walk every assigned order, closed ones included (SQLite has no
    statistics to tell them apart)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner")
    from sqlalchemy import event

    statements = []

    def record(_conn, _cursor, statement, params, _context, _many) -> None:
        if "count(" in statement:
            statements.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with uows() as uow:
            await board(uow, world["owner"], Scope.TEAM)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    [(statement, params)] = statements
    async with engine.connect() as conn:
        plan = [
            row[-1] for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        ]
    assert any("ix_orders_status_feed" in step for step in plan), plan
    assert not any("ix_orders_waiting (account_id=? AND assignee_id>?)" in s for s in plan), plan
