"""Migration 0026_completion_time fills the time from claim to completion of the orders
completed before it, as change_status stores it from now on (core.orders.service)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, text

from core.accounts.models import Account
from core.db.migrate import upgrade
from core.orders.models import Order
from core.orders.service import completion_seconds
from tests.support.db import insert_as_it_was, stored_account, stored_order

BEFORE = "0025_claim_wait"
T = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def test_completed_orders_get_their_time_from_claim_to_completion(old_engine):
    async with old_engine.begin() as conn:
        account = await insert_as_it_was(conn, Account, stored_account(T))
        rows = {
            # number: (status, claimed, completed)
            "A": ("completed", T, T + timedelta(hours=2, seconds=30)),
            "B": ("completed", None, T + timedelta(hours=1)),  # completed without a claim
            "C": ("in_progress", T, None),
            "D": ("completed", T + timedelta(minutes=5), T + timedelta(minutes=1)),  # clock skew
        }
        for number, (status, claimed, completed) in rows.items():
            row = stored_order(
                account,
                number,
                T - timedelta(hours=1),
                status=status,
                updated_at=T,
                claimed_at=claimed,
                completed_at=completed,
            )
            await insert_as_it_was(conn, Order, row)

    await upgrade(old_engine)

    async with old_engine.connect() as conn:
        took = dict(
            (await conn.execute(text("SELECT number, completion_seconds FROM orders"))).all()
        )
        indexed = await conn.run_sync(
            lambda sync: {
                ix["name"]: ix["column_names"] for ix in inspect(sync).get_indexes("orders")
            }
        )
    assert took == {"A": 2 * 3600 + 30, "B": None, "C": None, "D": 0}
    # The same rule as the one change_status applies from now on.
    assert took["A"] == completion_seconds(*rows["A"][1:])
    assert indexed["ix_orders_completed"][-1] == "completion_seconds"
    assert "claimed_at" not in indexed["ix_orders_completed"]
