"""Claiming is a compare-and-set at the database: of many simultaneous claims exactly one wins."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.orders.models import Order
from core.orders.service import claim_order
from tests.support.factories import new_account
from tests.support.orders import add_order, many_managers

CLAIMS_PER_ORDER = 24
ORDERS = 3


async def test_concurrent_claims_have_exactly_one_winner(uows):
    owner = await new_account(uows)
    racers = await many_managers(uows, owner.account_id, CLAIMS_PER_ORDER)
    order_ids = [await add_order(uows, owner.account_id, f"R{n}") for n in range(ORDERS)]

    async def attempt(actor, order_id):
        async with uows() as uow:
            return await claim_order(uow, actor, order_id)

    # Every racer claims every order at once; interleave so each order sees a crowd.
    attempts = [attempt(actor, order_id) for actor in racers for order_id in order_ids]
    outcomes = await asyncio.gather(*attempts)  # any error fails the test

    async with uows() as uow:
        stored = {
            o.id: o for o in await uow.session.scalars(select(Order).where(Order.id.in_(order_ids)))
        }
        claims = dict(
            (
                await uow.session.execute(
                    select(AuditEntry.subject_id, func.count())
                    .where(AuditEntry.action == "order.claimed")
                    .group_by(AuditEntry.subject_id)
                )
            ).all()
        )
    names = {a.member_id: f"@racer{a.telegram_id - 700_000}" for a in racers}
    for order_id in order_ids:
        mine = [o for o in outcomes if o.order.id == order_id]
        winners = [o for o in mine if o.won]
        assert len(mine) == CLAIMS_PER_ORDER
        assert len(winners) == 1, f"order {order_id}: {len(winners)} winners"
        holder = names[stored[order_id].assignee_id]
        assert winners[0].holder == holder
        assert all(o.holder == holder for o in mine), "every loser is told who has it"
        assert stored[order_id].status == "in_progress"
        assert claims[order_id] == 1


async def test_concurrent_deliveries_of_one_order_store_it_once(uows):
    from core.orders.service import intake_order
    from tests.support.orders import new_order

    owner = await new_account(uows)

    async def deliver():
        async with uows() as uow:
            return await intake_order(uow, owner.account_id, new_order("D1"))

    results = await asyncio.gather(*(deliver() for _ in range(12)))
    assert sum(r.created for r in results) == 1
    assert len({r.order.id for r in results}) == 1
    async with uows() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Order)) == 1
        created = await uow.session.scalar(
            select(func.count()).where(AuditEntry.action == "order.created")
        )
    assert created == 1


async def test_only_the_winning_claim_edits_the_announcements(uows):
    from core.notifications.models import OutboxMessage
    from core.orders.announce import set_order_notifications
    from core.orders.notices import ANNOUNCED, ANNOUNCEMENT_EDIT, announcement_key

    owner = await new_account(uows)
    racers = await many_managers(uows, owner.account_id, 8)
    for actor in racers[:3]:  # three of them hear of new orders
        async with uows() as uow:
            await set_order_notifications(uow, actor, True)
    order_id = await add_order(uows, owner.account_id, "A1")

    async def attempt(actor):
        async with uows() as uow:
            return await claim_order(uow, actor, order_id)

    outcomes = await asyncio.gather(*(attempt(actor) for actor in racers))
    assert sum(o.won for o in outcomes) == 1
    async with uows() as uow:
        rows = (
            await uow.session.execute(
                select(OutboxMessage.kind, OutboxMessage.chat_id, OutboxMessage.edit_of)
            )
        ).all()
    announced = sorted(chat for kind, chat, _ in rows if kind == ANNOUNCED)
    edited = sorted(chat for kind, chat, _ in rows if kind == ANNOUNCEMENT_EDIT)
    assert announced == edited == sorted(a.telegram_id for a in racers[:3])
    assert {edit_of for kind, _, edit_of in rows if kind == ANNOUNCEMENT_EDIT} == {
        announcement_key(order_id)
    }
