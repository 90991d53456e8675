"""Migration 0025_claim_wait fills the wait of the orders claimed before it with the working-time
rule the claim uses from now on (core.accounts.hours.working_seconds)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from core.accounts.models import Account
from core.db.migrate import upgrade
from core.orders.models import Order
from tests.support.db import insert_as_it_was, stored_account, stored_order

BEFORE = "0024_waiting_orders"


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    # December 2026: the 7th is a Monday; Moscow is UTC+3.
    return datetime(2026, 12, day, hour - 3, minute, tzinfo=UTC)


async def test_claimed_orders_get_their_wait_in_working_time(old_engine):
    async with old_engine.begin() as conn:
        moscow = await insert_as_it_was(
            conn, Account, stored_account(msk(1, 9), name="Moscow 9-18")
        )
        early = await insert_as_it_was(
            conn,
            Account,
            stored_account(msk(1, 9), name="UTC 6-8", timezone="UTC", work_start=6, work_end=8),
        )

        def order(account_id, number, created, claimed):
            status = "in_progress" if claimed else "new"
            return stored_order(account_id, number, created, status=status, claimed_at=claimed)

        for row in (
            # Monday 17:50 → Tuesday 9:10: 10 minutes before closing, 10 after opening.
            order(moscow, "A", msk(7, 17, 50), msk(8, 9, 10)),
            # Friday 17:30 → Monday 9:15: the weekend does not count.
            order(moscow, "B", msk(11, 17, 30), msk(14, 9, 15)),
            order(moscow, "C", msk(8, 10), None),  # never claimed
            # The same moments by another account's hours (UTC, 6–8): 9:10 Moscow is 6:10 UTC.
            order(early, "A", msk(7, 17, 50), msk(8, 9, 10)),
        ):
            await insert_as_it_was(conn, Order, row)

    await upgrade(old_engine)

    async with old_engine.connect() as conn:
        waits = {
            (account_id, number): wait
            for account_id, number, wait in await conn.execute(
                text("SELECT account_id, number, claim_wait_seconds FROM orders")
            )
        }
        indexed = await conn.run_sync(
            lambda sync: {
                ix["name"]: ix["column_names"] for ix in inspect(sync).get_indexes("orders")
            }
        )
    assert waits == {
        (moscow, "A"): 20 * 60,
        (moscow, "B"): 45 * 60,
        (moscow, "C"): None,
        (early, "A"): 10 * 60,
    }
    assert indexed["ix_orders_claimed"] == [
        "account_id",
        "claimed_at",
        "assignee_id",
        "claim_wait_seconds",
    ]
