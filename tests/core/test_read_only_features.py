"""A lapsed subscription makes the account read-only for every feature that changes data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.accounts.models import Account
from core.errors import PermissionDenied
from tests.support.factories import actor_for, new_account
from tests.support.journal import fund, order


async def _lapse(uows, account_id: int) -> None:
    async with uows() as uow:
        account = await uow.session.get(Account, account_id)
        account.paid_through = uows.clock.now().date() - timedelta(days=2)
        await uow.commit()


async def test_ordering_a_service_is_refused_but_topping_up_is_not(uows):
    owner = await new_account(uows)
    await _lapse(uows, owner.account_id)
    owner = await actor_for(uows, owner.telegram_id)
    assert owner.read_only
    await fund(uows, owner, 1_000_000, "PAY-1")  # money received is always recorded
    with pytest.raises(PermissionDenied) as err:
        await order(uows, owner, "chat_widget")
    assert err.value.code == "account_read_only"


async def test_orders_can_be_seen_but_not_claimed_or_created(uows):
    from core.orders.service import NewOrder, OrderTab, claim_order, create_order, list_orders
    from tests.support.factories import join

    owner = await new_account(uows)
    manager = await join(uows, owner, 3001)
    async with uows() as uow:
        card = await create_order(
            uow, owner, NewOrder(number="A-1", customer_name="Ivan", total=100_00)
        )
    await _lapse(uows, owner.account_id)
    manager = await actor_for(uows, manager.telegram_id)
    owner = await actor_for(uows, owner.telegram_id)
    async with uows() as uow:
        assert (await list_orders(uow, manager, OrderTab.UNASSIGNED)).rows
    for attempt in (
        lambda uow: claim_order(uow, manager, card.summary.id),
        lambda uow: create_order(uow, owner, NewOrder(number="A-2", customer_name="P", total=1)),
    ):
        with pytest.raises(PermissionDenied) as err:
            async with uows() as uow:
                await attempt(uow)
        assert err.value.code == "account_read_only"
