from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.journal import billing
from core.ledger.models import EntryKind
from core.ledger.service import InsufficientFunds, post
from tests.support.factories import join, new_account
from tests.support.journal import entries, fund, money


async def test_top_up_credits_and_is_audited(uows):
    owner = await new_account(uows)
    result = await fund(uows, owner, 5_000_00, "PP-1001")
    assert (result.replayed, result.balance, result.entry.amount) == (False, 5_000_00, 5_000_00)
    assert await money(uows, owner.account_id) == (5_000_00, 5_000_00)
    async with uows() as uow:
        entry = (
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "balance.topped_up")
            )
        ).one()
    assert (entry.actor_id, entry.reason) == (owner.member_id, "PP-1001")
    assert (entry.before, entry.after) == (
        {"balance": 0},
        {"balance": 5_000_00, "amount": 5_000_00},
    )


async def test_same_reference_never_credits_twice(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 5_000_00, "PP-1001")
    again = await fund(uows, owner, 5_000_00, "  pp-1001 ")
    assert again.replayed and again.balance == 5_000_00
    with pytest.raises(Conflict) as err:
        await fund(uows, owner, 7_000_00, "PP-1001")
    assert (err.value.code, err.value.params["amount"]) == ("reference_used", 5_000_00)
    assert await money(uows, owner.account_id) == (5_000_00, 5_000_00)
    assert len(await entries(uows, owner.account_id)) == 1


async def test_concurrent_top_ups_with_one_reference_credit_once(uows):
    owner = await new_account(uows)
    results = await asyncio.gather(*(fund(uows, owner, 1_000_00, "PP-7") for _ in range(6)))
    assert sorted(r.replayed for r in results) == [False] + [True] * 5
    assert await money(uows, owner.account_id) == (1_000_00, 1_000_00)


@pytest.mark.parametrize(
    ("amount", "code"),
    [(0, "amount_positive"), (-5, "amount_positive"), (10**10, "amount_too_large")],
)
async def test_bad_top_up_changes_nothing(uows, amount, code):
    owner = await new_account(uows)
    with pytest.raises(InvalidInput) as err:
        await fund(uows, owner, amount)
    assert err.value.code == code
    assert await entries(uows, owner.account_id) == []


async def test_only_billing_managers_top_up(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    with pytest.raises(PermissionDenied):
        await fund(uows, admin, 1_00)
    assert await money(uows, owner.account_id) == (0, 0)


async def test_operator_top_up_needs_an_existing_account(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        result = await billing.operator_top_up(uow, owner.account_id, 300_00, "BANK-1")
    assert (result.balance, result.entry.actor_id) == (300_00, None)
    with pytest.raises(NotFound):
        async with uows() as uow:
            await billing.operator_top_up(uow, 999, 300_00, "BANK-2")


async def test_charge_below_zero_is_refused_with_the_shortfall(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)
    with pytest.raises(InsufficientFunds) as err:
        async with uows() as uow:
            await post(
                uow,
                account_id=owner.account_id,
                kind=EntryKind.CHARGE,
                amount=-1_240_00 - 1_000_00,
                key="charge:x",
                reason="test",
            )
    assert err.value.params == {"price": 2_240_00, "balance": 1_000_00, "shortfall": 1_240_00}
    assert await money(uows, owner.account_id) == (1_000_00, 1_000_00)


async def test_repeated_key_returns_the_first_entry(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)
    results = []
    for _ in range(2):
        async with uows() as uow:
            results.append(
                await post(
                    uow,
                    account_id=owner.account_id,
                    kind=EntryKind.CHARGE,
                    amount=-400_00,
                    key="charge:once",
                    reason="test",
                )
            )
            await uow.commit()
    assert [r.replayed for r in results] == [False, True]
    assert results[0].entry.id == results[1].entry.id
    assert await money(uows, owner.account_id) == (600_00, 600_00)


async def test_parallel_charges_never_take_the_balance_below_zero(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)

    async def charge(i: int) -> bool:
        try:
            async with uows() as uow:
                await post(
                    uow,
                    account_id=owner.account_id,
                    kind=EntryKind.CHARGE,
                    amount=-300_00,
                    key=f"charge:{i}",
                    reason="test",
                )
                await uow.commit()
            return True
        except InsufficientFunds:
            return False

    results = await asyncio.gather(*(charge(i) for i in range(8)))
    assert results.count(True) == 3
    assert await money(uows, owner.account_id) == (100_00, 100_00)


async def test_cached_balance_always_equals_the_ledger(uows):
    owner = await new_account(uows)
    other = await new_account(uows, owner_tg=2, name="Other")
    rng = random.Random(5)
    for step in range(30):
        account = rng.choice([owner, other])
        kind = rng.choice(list(EntryKind))
        amount = rng.randint(1, 2_000_00) * (-1 if kind == EntryKind.CHARGE else 1)
        try:
            async with uows() as uow:
                posted = await post(
                    uow,
                    account_id=account.account_id,
                    kind=kind,
                    amount=amount,
                    key=f"k{step % 25}",  # some keys repeat: those change nothing
                    reason="test",
                )
                await uow.commit()
            assert posted.entry.balance_after >= 0
        except InsufficientFunds:
            pass
        for who in (owner, other):
            cached, total = await money(uows, who.account_id)
            assert cached == total >= 0
