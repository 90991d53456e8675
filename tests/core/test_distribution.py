"""Auto-assignment: the fairness rule on a table of cases, repeat customers, the cap, the log
and the assignee's notice, and concurrent arrivals spread as one process would."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.notifications.models import OutboxMessage
from core.orders import notices
from core.orders.distribution import Candidate, Choice, Reason, pick
from core.orders.models import Order
from core.orders.shifts import set_shift
from tests.support.factories import join, new_account
from tests.support.orders import add_order, many_managers

T = datetime(2026, 12, 7, 9, tzinfo=UTC)


def at(minute: int) -> datetime:
    return T.replace(minute=minute)


FEWEST, REPEAT = Reason.FEWEST_OPEN, Reason.REPEAT_CUSTOMER


@pytest.mark.parametrize(
    "candidates, cap, previous, expected",
    [
        # fewest open orders wins
        ([(1, 3, None), (2, 1, None), (3, 2, None)], 20, None, (2, FEWEST)),
        # a tie goes to the one never assigned
        ([(1, 2, at(5)), (2, 2, None)], 20, None, (2, FEWEST)),
        # a tie goes to the longest since the last assignment
        ([(1, 2, at(5)), (2, 2, at(1)), (3, 2, at(3))], 20, None, (2, FEWEST)),
        # a full tie: the lower member id (stable)
        ([(4, 0, None), (3, 0, None)], 20, None, (3, FEWEST)),
        # nobody above the cap: the one at the cap is skipped though it is the longest idle
        ([(1, 5, None), (2, 6, at(1))], 6, None, (1, FEWEST)),
        # everyone at the cap: nobody
        ([(1, 5, None), (2, 5, None)], 5, None, None),
        # nobody on shift: nobody
        ([], 20, None, None),
        # a repeat customer goes to their manager, even with more open orders
        ([(1, 0, None), (2, 4, at(1))], 20, 2, (2, REPEAT)),
        # ... but not above the cap: then the fairness rule
        ([(1, 0, None), (2, 4, at(1))], 4, 2, (1, FEWEST)),
        # ... nor when off shift (not a candidate)
        ([(1, 3, None), (2, 1, None)], 20, 9, (2, FEWEST)),
    ],
)
def test_the_fairness_rule(candidates, cap, previous, expected):
    found = pick([Candidate(*c) for c in candidates], cap, previous)
    assert found == (Choice(*expected) if expected else None)


async def _auto(uows, account_id: int, **values) -> None:
    async with uows() as uow:
        await uow.session.execute(
            update(Account).where(Account.id == account_id).values(distribution="auto", **values)
        )
        await uow.commit()


async def _on_shift(uows, *actors) -> None:
    for actor in actors:
        async with uows() as uow:
            await set_shift(uow, actor, True)


async def _assignees(uows) -> dict[str, int | None]:
    async with uows() as uow:
        return dict((await uow.session.execute(select(Order.number, Order.assignee_id))).all())


@pytest.fixture
async def team(uows):
    owner = await new_account(uows)
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    return owner, petya, vasya


async def test_claim_distribution_leaves_orders_unassigned(uows, team):
    owner, petya, _vasya = team
    await _on_shift(uows, petya)
    await add_order(uows, owner.account_id, "1")
    assert (await _assignees(uows))["1"] is None


async def test_auto_gives_orders_in_turn_and_tells_the_assignee(uows, team, clock):
    owner, petya, vasya = team
    await _auto(uows, owner.account_id)
    await _on_shift(uows, petya, vasya)
    for n in range(4):
        await add_order(
            uows, owner.account_id, f"A{n}", customer_phone=f"+7900000000{n}", customer_email=None
        )
        clock.advance(timedelta(seconds=1))
    got = await _assignees(uows)
    assert Counter(got.values()) == {petya.member_id: 2, vasya.member_id: 2}
    assert got["A0"] != got["A1"] and got["A0"] == got["A2"]
    async with uows() as uow:
        entries = list(
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "order.auto_assigned")
            )
        )
        told = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == notices.AUTO_ASSIGNED)
            )
        )
        announced = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == notices.ANNOUNCED)
            )
        )
        order = (await uow.session.scalars(select(Order).where(Order.number == "A0"))).one()
    assert len(entries) == 4 and {e.reason for e in entries} == {"fewest_open"}
    assert entries[0].actor_id is None and entries[0].after["assignee"] in ("@petya", "@vasya")
    assert sorted(m.member_id for m in told) == sorted(got.values())
    assert told[0].params["reason"] == "fewest_open"
    assert announced == []  # an assigned order is not announced for claiming
    assert order.claimed_at is not None and order.status == "new"
    assert order.claim_wait_seconds == 0  # given as it came in


async def test_a_repeat_customer_goes_to_their_manager(uows, team, clock):
    owner, petya, vasya = team
    await _auto(uows, owner.account_id)
    await _on_shift(uows, petya, vasya)
    await add_order(uows, owner.account_id, "1", customer_phone="+7 900 111-22-33")
    first = (await _assignees(uows))["1"]
    clock.advance(timedelta(seconds=1))
    # The same phone written another way, and the same e-mail without a phone: the same manager
    # though the other one has fewer open orders now.
    await add_order(uows, owner.account_id, "2", customer_phone="+79001112233")
    await add_order(
        uows, owner.account_id, "3", customer_phone=None, customer_email="Ivan@Example.com"
    )
    got = await _assignees(uows)
    assert got["2"] == first and got["3"] == first
    async with uows() as uow:
        reasons = list(
            await uow.session.scalars(
                select(AuditEntry.reason)
                .where(AuditEntry.action == "order.auto_assigned")
                .order_by(AuditEntry.id)
            )
        )
    assert reasons == ["fewest_open", "repeat_customer", "repeat_customer"]


async def test_nobody_on_shift_or_all_at_the_cap_leaves_it_to_the_claim_timer(uows, team):
    owner, petya, _vasya = team
    await _auto(uows, owner.account_id, open_cap=1)
    await add_order(uows, owner.account_id, "1", customer_phone="+79000000001")
    await _on_shift(uows, petya)
    await add_order(uows, owner.account_id, "2", customer_phone="+79000000002")
    await add_order(uows, owner.account_id, "3", customer_phone="+79000000003")
    got = await _assignees(uows)
    assert got == {"1": None, "2": petya.member_id, "3": None}


MANAGERS = 5
ARRIVALS = 23
CAP = 4


async def test_concurrent_arrivals_spread_as_one_process_would(uows):
    """On SQLite and PostgreSQL (the `uows` fixture runs both): orders arriving at once are
    counted one by one, so nobody exceeds the cap and the spread is even."""
    owner = await new_account(uows)
    racers = await many_managers(uows, owner.account_id, MANAGERS)
    await _auto(uows, owner.account_id, open_cap=CAP)
    await _on_shift(uows, *racers)

    async def arrive(n: int) -> int:
        return await add_order(uows, owner.account_id, f"C{n}", customer_phone=f"+7901000{n:04}")

    await asyncio.gather(*(arrive(n) for n in range(ARRIVALS)))
    got = await _assignees(uows)
    load = Counter(v for v in got.values() if v is not None)
    assert len(got) == ARRIVALS
    assert set(load) == {r.member_id for r in racers}
    assert max(load.values()) == CAP  # 23 orders, 5 × 4 = 20 places: full, none above
    assert sum(load.values()) == MANAGERS * CAP
    assert list(got.values()).count(None) == ARRIVALS - MANAGERS * CAP
