"""Claim timers on a frozen clock: re-announced after claim_minutes of working time, escalated
after twice that, the clock paused outside working hours, each step once (also when two runs
race or the job was down)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from core.accounts.models import Account
from core.alerts.preferences import set_alerts
from core.members.access import look_up_access
from core.notifications.models import OutboxMessage
from core.orders import claims, notices
from core.orders.models import Order
from core.orders.service import OrderTab, claim_order, list_orders
from core.orders.shifts import set_shift
from tests.support.factories import join, new_account
from tests.support.orders import add_order


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    # December 2026: the 7th is a Monday. Moscow is UTC+3; work 9–18, Monday to Friday.
    return datetime(2026, 12, day, hour - 3, minute, tzinfo=UTC)


@pytest.fixture
async def team(uows, clock):
    clock.set(msk(7, 10))
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    quiet_admin = await join(uows, owner, 2001, "admin", username="quiet")
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    async with uows() as uow:
        await set_alerts(uow, admin, True)
    async with uows() as uow:
        await set_shift(uow, petya, True)
    return {"owner": owner, "admin": admin, "quiet": quiet_admin, "petya": petya, "vasya": vasya}


async def messages(uows, kind: str) -> list[tuple[int, int]]:
    """(order id, member id) of every outbox row of this kind."""
    async with uows() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
        return [(m.params["order_id"], m.member_id) for m in rows]


async def step_of(uows, order_id: int) -> int:
    async with uows() as uow:
        return await uow.session.scalar(select(Order.claim_step).where(Order.id == order_id))


async def at(uows, clock, moment: datetime) -> int:
    clock.set(moment)
    return await claims.run_claim_timers(uows)


async def test_reannounced_to_the_shift_then_escalated_once_each(uows, clock, team):
    order = await add_order(uows, team["owner"].account_id, "1")
    assert await at(uows, clock, msk(7, 10, 14)) == 0
    assert await messages(uows, notices.UNCLAIMED) == []
    assert await at(uows, clock, msk(7, 10, 15)) == 1
    # Only the manager on shift (Petya), not Vasya who is off.
    assert await messages(uows, notices.UNCLAIMED) == [(order, team["petya"].member_id)]
    assert await step_of(uows, order) == claims.Step.REANNOUNCED
    assert await at(uows, clock, msk(7, 10, 20)) == 0  # once
    assert await messages(uows, notices.ESCALATED) == []
    assert await at(uows, clock, msk(7, 10, 30)) == 1
    escalated = await messages(uows, notices.ESCALATED)
    # The owner and the admin who opted in to alerts; not the other admin, not managers.
    assert sorted(escalated) == sorted(
        [(order, team["owner"].member_id), (order, team["admin"].member_id)]
    )
    assert await at(uows, clock, msk(7, 12)) == 0  # once, and nothing after the last step
    assert len(await messages(uows, notices.ESCALATED)) == 2
    assert len(await messages(uows, notices.UNCLAIMED)) == 1


async def test_the_clock_stops_outside_working_hours(uows, clock, team):
    clock.set(msk(7, 17, 50))
    order = await add_order(uows, team["owner"].account_id, "1")
    assert await at(uows, clock, msk(7, 18, 30)) == 0  # 10 working minutes so far
    assert await at(uows, clock, msk(8, 8, 59)) == 0  # the night does not count
    assert await at(uows, clock, msk(8, 9, 4)) == 0
    assert await at(uows, clock, msk(8, 9, 5)) == 1  # 10 + 5 minutes
    assert await messages(uows, notices.UNCLAIMED) == [(order, team["petya"].member_id)]
    assert await at(uows, clock, msk(8, 9, 19)) == 0
    assert await at(uows, clock, msk(8, 9, 20)) == 1
    assert await step_of(uows, order) == claims.Step.ESCALATED


async def test_an_order_of_the_weekend_waits_for_monday(uows, clock, team):
    clock.set(msk(12, 12))  # Saturday
    await add_order(uows, team["owner"].account_id, "1")
    assert await at(uows, clock, msk(13, 23)) == 0
    assert await at(uows, clock, msk(14, 9, 15)) == 1


async def test_a_claimed_order_has_no_timer(uows, clock, team):
    order = await add_order(uows, team["owner"].account_id, "1")
    assert await at(uows, clock, msk(7, 10, 15)) == 1
    async with uows() as uow:
        await claim_order(uow, team["vasya"], order)
    assert await at(uows, clock, msk(7, 11)) == 0
    assert await messages(uows, notices.ESCALATED) == []


async def test_after_downtime_each_step_still_happens_once(uows, clock, team):
    order = await add_order(uows, team["owner"].account_id, "1")
    assert await at(uows, clock, msk(7, 15)) == 1  # both steps due: one move, two messages
    assert len(await messages(uows, notices.UNCLAIMED)) == 1
    assert len(await messages(uows, notices.ESCALATED)) == 2
    assert await step_of(uows, order) == claims.Step.ESCALATED


async def test_racing_runs_take_each_step_once(uows, clock, team):
    for n in range(5):
        await add_order(uows, team["owner"].account_id, f"R{n}")
    clock.set(msk(7, 10, 15))
    moved = await asyncio.gather(*(claims.run_claim_timers(uows) for _ in range(4)))
    assert sum(moved) == 5
    assert len(await messages(uows, notices.UNCLAIMED)) == 5


async def test_the_account_sets_the_time_and_nobody_on_shift_means_the_usual_chats(
    uows, clock, team
):
    async with uows() as uow:
        await uow.session.execute(update(Account).values(claim_minutes=5))
        await uow.commit()
    async with uows() as uow:
        await set_shift(uow, team["petya"], False)
    from core.orders.announce import set_order_notifications

    async with uows() as uow:
        await set_order_notifications(uow, team["vasya"], True)
    order = await add_order(uows, team["owner"].account_id, "1")
    assert await at(uows, clock, msk(7, 10, 5)) == 1
    assert await messages(uows, notices.UNCLAIMED) == [(order, team["vasya"].member_id)]


async def test_overdue_counts_unclaimed_orders_past_their_time(uows, clock, team):
    account_id = team["owner"].account_id
    await add_order(uows, account_id, "1")
    clock.set(msk(7, 10, 10))
    await add_order(uows, account_id, "2")
    clock.set(msk(7, 10, 20))
    async with uows() as uow:
        account = await uow.session.get(Account, account_id)
        assert await claims.count_overdue(uow, account.id, account) == 1
    clock.set(msk(7, 17, 55))
    await add_order(uows, account_id, "3")
    clock.set(msk(7, 23))  # closed: order 3 has waited 5 working minutes, however late it is
    async with uows() as uow:
        account = await uow.session.get(Account, account_id)
        assert await claims.count_overdue(uow, account.id, account) == 2


async def test_a_list_marks_late_orders_from_the_hours_read_with_the_member(
    uows, clock, team, engine
):
    """The actor resolved for an update carries the account's hours and claim time, so
    /orders counts and marks late orders without reading the account again; a change of the
    claim time counts from the next update (the hours are read fresh with the member)."""
    account_id = team["owner"].account_id
    await add_order(uows, account_id, "1")
    clock.set(msk(7, 10, 20))
    async with uows() as uow:
        actor = (await look_up_access(uow, team["petya"].telegram_id)).actor
    assert actor.hours is not None and actor.hours.claim_minutes == 15
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with uows() as uow:
            page = await list_orders(uow, actor, OrderTab.UNASSIGNED)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert page.overdue == 1 and len(page.late) == 1
    assert not [s for s in statements if "FROM accounts" in s]
    async with uows() as uow:
        await uow.session.execute(
            update(Account).where(Account.id == account_id).values(claim_minutes=30)
        )
        await uow.commit()
    async with uows() as uow:
        actor = (await look_up_access(uow, team["petya"].telegram_id)).actor
        page = await list_orders(uow, actor, OrderTab.UNASSIGNED)
    assert actor.hours.claim_minutes == 30 and page.overdue == 0 and not page.late


async def test_the_jobs_queries_search_an_index(uows, clock, team, engine):
    """Every minute the job looks for waiting orders across all accounts: an index search,
    never a walk over the orders table."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner")
    from sqlalchemy import event

    await add_order(uows, team["owner"].account_id, "1")
    statements = []

    def record(_conn, _cursor, statement, params, _context, _many) -> None:
        if "FROM orders" in statement and "claim_step" in statement:
            statements.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await at(uows, clock, msk(7, 10, 15))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert len(statements) >= 2
    async with engine.connect() as conn:
        for statement, params in statements:
            if statement.lstrip().upper().startswith("UPDATE"):
                continue
            plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            steps = [row[-1] for row in plan if "orders" in row[-1]]
            assert steps and all(step.startswith("SEARCH") for step in steps), steps


async def test_the_overdue_count_reads_only_the_accounts_unclaimed_orders(
    uows, clock, team, engine
):
    """/orders counts the overdue orders at every first page: from the index that leads with
    the account and the missing assignee, never from every open order of the account."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner")
    from sqlalchemy import event

    await add_order(uows, team["owner"].account_id, "1")
    clock.set(msk(7, 10, 30))
    statements = []

    def record(_conn, _cursor, statement, params, _context, _many) -> None:
        if statement.lstrip().upper().startswith("SELECT COUNT"):
            statements.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with uows() as uow:
            account = await uow.session.get(Account, team["owner"].account_id)
            assert await claims.count_overdue(uow, account.id, account) == 1
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    [(statement, params)] = statements
    async with engine.connect() as conn:
        plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        steps = [row[-1] for row in plan]
    assert any("ix_orders_waiting" in step for step in steps), steps


async def test_many_orders_at_once_are_told_as_one_count_per_step(uows, clock, team):
    limit = notices.ANNOUNCE_EACH_LIMIT
    ids = [await add_order(uows, team["owner"].account_id, f"M{n}") for n in range(limit + 2)]
    assert await at(uows, clock, msk(7, 10, 15)) == limit + 2
    async with uows() as uow:
        many = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == notices.UNCLAIMED_MANY)
            )
        )
    assert [(m.member_id, m.params) for m in many] == [
        (team["petya"].member_id, {"count": limit + 2, "minutes": 15})
    ]
    assert await messages(uows, notices.UNCLAIMED) == []  # no message per order
    assert {await step_of(uows, i) for i in ids} == {claims.Step.REANNOUNCED}
    assert await at(uows, clock, msk(7, 10, 20)) == 0
    assert await at(uows, clock, msk(7, 10, 30)) == limit + 2
    async with uows() as uow:
        escalated = list(
            await uow.session.scalars(
                select(OutboxMessage.member_id).where(OutboxMessage.kind == notices.ESCALATED_MANY)
            )
        )
    assert sorted(escalated) == sorted([team["owner"].member_id, team["admin"].member_id])


@pytest.mark.parametrize("minutes", [1, 15, 45, 600])
@pytest.mark.parametrize("now", [msk(7, 9, 20), msk(7, 12), msk(8, 9, 5), msk(12, 12), msk(14, 9)])
def test_overdue_since_agrees_with_the_rule_for_every_creation_time(minutes, now):
    """The count's bound and the per-order rule say the same for creation times every 5
    minutes over the preceding ten days."""
    hours = dict(work_start=9, work_end=18, work_days="12345")
    account = Account(timezone="Europe/Moscow", claim_minutes=minutes, **hours)
    since = claims.overdue_since(account, now)
    moment = now - timedelta(days=10)
    while moment <= now:
        expected = claims.overdue(account, moment, now)
        assert (since is not None and moment <= since) == expected, (moment, since)
        moment += timedelta(minutes=5)
