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
