"""The report's speed per member: the median time to claim (working time) and from claim to
completion, over the period, on a frozen clock (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from core.accounts.hours import working_time_between
from core.accounts.models import Account
from core.orders.models import Order, OrderStatus
from core.orders.service import assign_order, change_status, claim_order
from core.reports.periods import custom_period
from core.reports.service import Speed, sales_report
from tests.support.factories import join, new_account
from tests.support.orders import add_order


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    # December 2026: the 7th is a Monday; Moscow is UTC+3; work 9–18, Monday to Friday.
    return datetime(2026, 12, day, hour - 3, minute, tzinfo=UTC)


async def test_medians_of_time_to_claim_and_to_completion(uows, clock):
    clock.set(msk(7, 9))
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    await join(uows, owner, 3002, username="vasya")
    account = owner.account_id

    async def at(moment, action, actor, order_id, status=None):
        clock.set(moment)
        async with uows() as uow:
            if action == "claim":
                await claim_order(uow, actor, order_id)
            else:
                await change_status(uow, actor, order_id, status)

    clock.set(msk(7, 10))
    a = await add_order(uows, account, "A")
    c = await add_order(uows, account, "C")
    clock.set(msk(7, 17, 50))
    b = await add_order(uows, account, "B")
    await at(msk(7, 10, 10), "claim", petya, a)  # 10 minutes
    await at(msk(7, 10, 30), "claim", petya, c)  # 30 minutes, still open
    await at(msk(7, 12, 10), "status", petya, a, OrderStatus.COMPLETED)  # 2 h after the claim
    await at(msk(8, 9, 10), "claim", petya, b)  # 10 + 10 working minutes: the night is not counted
    await at(msk(8, 9, 40), "status", petya, b, OrderStatus.COMPLETED)  # 30 minutes
    async with uows() as uow:
        result = await sales_report(uow, admin, custom_period(date(2026, 12, 7), date(2026, 12, 8)))
    speeds = {row.name: row.speed for row in result.rows}
    assert speeds["@petya"] == Speed(timedelta(minutes=20), timedelta(minutes=30))
    assert speeds["@vasya"] == Speed()
    async with uows() as uow:
        monday = await sales_report(uow, admin, custom_period(date(2026, 12, 7), date(2026, 12, 7)))
    # Monday alone: A and C claimed (10, 30 → the lower median 10), A completed (2 h).
    assert {r.name: r.speed for r in monday.rows}["@petya"] == Speed(
        timedelta(minutes=10), timedelta(hours=2)
    )


async def test_median_to_completion_is_the_lower_middle_of_odd_and_even_counts(uows, clock):
    """The median row is picked in SQL: ranked by the time taken, not by completion order."""
    clock.set(msk(7, 9))
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    account = owner.account_id

    async def done(number: str, claimed: datetime, took: int) -> None:
        clock.set(claimed)
        order = await add_order(uows, account, number)
        async with uows() as uow:
            await claim_order(uow, petya, order)
        clock.set(claimed + timedelta(minutes=took))
        async with uows() as uow:
            await change_status(uow, petya, order, OrderStatus.COMPLETED)

    async def to_complete() -> timedelta | None:
        async with uows() as uow:
            result = await sales_report(
                uow, admin, custom_period(date(2026, 12, 7), date(2026, 12, 7))
            )
        return {r.name: r.speed for r in result.rows}["@petya"].to_complete

    await done("A", msk(7, 10), 50)
    await done("B", msk(7, 11), 10)
    await done("C", msk(7, 12), 30)
    assert await to_complete() == timedelta(minutes=30)  # 10, 30, 50
    await done("D", msk(7, 13), 20)
    assert await to_complete() == timedelta(minutes=20)  # 10, 20 | 30, 50: the lower middle


async def test_the_wait_is_stored_at_the_claim_in_working_time(uows, clock):
    """claim_wait_seconds is the working time from creation to the first claim or assignment,
    the clock stopped between closing and opening (and over the weekend); later assignments
    keep it."""
    clock.set(msk(7, 9))
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    clock.set(msk(7, 17, 50))
    evening = await add_order(uows, owner.account_id, "A")
    clock.set(msk(11, 17, 30))  # a Friday
    friday = await add_order(uows, owner.account_id, "B")

    clock.set(msk(8, 9, 10))  # Tuesday morning: 10 minutes on Monday, 10 on Tuesday
    async with uows() as uow:
        await claim_order(uow, petya, evening)
    clock.set(msk(14, 9, 15))  # Monday after: 30 minutes on Friday, 15 on Monday
    async with uows() as uow:
        await assign_order(uow, admin, friday, petya.member_id)
    clock.set(msk(14, 11))
    async with uows() as uow:
        await assign_order(uow, admin, friday, vasya.member_id)  # the first assignment counts

    async with uows() as uow:
        account = await uow.session.get(Account, owner.account_id)
        rows = {o.number: o for o in await uow.session.scalars(select(Order))}
    assert rows["A"].claim_wait_seconds == 20 * 60
    assert rows["B"].claim_wait_seconds == 45 * 60
    for order in rows.values():
        rule = working_time_between(account, order.created_at, order.claimed_at)
        assert order.claim_wait_seconds == rule.total_seconds()


async def test_the_median_to_claim_is_the_stored_wait(uows, clock):
    """The report reads the wait stored at the claim: hours changed afterwards do not change it
    (worked out again from the new hours, A's 20 minutes would read 10)."""
    clock.set(msk(7, 9))
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    clock.set(msk(7, 17, 50))
    order = await add_order(uows, owner.account_id, "A")
    clock.set(msk(8, 9, 10))
    async with uows() as uow:
        await claim_order(uow, petya, order)
    async with uows() as uow:
        await uow.session.execute(
            update(Account).where(Account.id == owner.account_id).values(work_start=9, work_end=10)
        )
        await uow.commit()
    async with uows() as uow:
        result = await sales_report(uow, admin, custom_period(date(2026, 12, 8), date(2026, 12, 8)))
    assert {r.name: r.speed for r in result.rows}["@petya"] == Speed(timedelta(minutes=20), None)


async def test_the_time_to_completion_is_stored_with_the_completion(uows, clock):
    """change_status stores the seconds from the claim with completed_at, clears them when the
    order is reopened and stores them again at the next completion; the report's median reads
    the stored value (an order completed unclaimed has none and is left out)."""
    clock.set(msk(7, 9))
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    order = await add_order(uows, owner.account_id, "A")
    clock.set(msk(7, 9, 10))
    async with uows() as uow:
        await claim_order(uow, petya, order)

    async def move(moment: datetime, status: OrderStatus) -> int | None:
        clock.set(moment)
        async with uows() as uow:
            await change_status(uow, admin, order, status)
        async with uows() as uow:
            return await uow.session.scalar(
                select(Order.completion_seconds).where(Order.id == order)
            )

    assert await move(msk(7, 9, 40), OrderStatus.COMPLETED) == 30 * 60
    assert await move(msk(7, 10), OrderStatus.IN_PROGRESS) is None  # reopened
    assert await move(msk(7, 11, 10), OrderStatus.COMPLETED) == 2 * 3600
    async with uows() as uow:  # the report reads the stored value, not the two moments
        await uow.session.execute(
            update(Order).where(Order.id == order).values(completion_seconds=7 * 60)
        )
        await uow.commit()
    async with uows() as uow:
        result = await sales_report(uow, admin, custom_period(date(2026, 12, 7), date(2026, 12, 7)))
    assert {r.name: r.speed for r in result.rows}["@petya"].to_complete == timedelta(minutes=7)
