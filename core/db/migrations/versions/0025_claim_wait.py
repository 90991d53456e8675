"""orders keep how long they waited for their claim in working seconds (claim_wait_seconds,
written with claimed_at); the report's median time to claim is picked in SQL from it, read from
ix_orders_claimed. The orders claimed before are filled here with the same working-time rule
(core.accounts.hours.working_seconds, each account's hours as they are now)

Revision ID: 0025_claim_wait
Revises: 0024_waiting_orders
Create Date: 2026-12-07 17:30:00.000000
"""

from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa

import core.db.base
from core.accounts.hours import working_seconds


revision = "0025_claim_wait"
down_revision = "0024_waiting_orders"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = core.db.base.UTCDateTime(timezone=True)
BATCH = 5000


def upgrade() -> None:
    op.add_column("orders", sa.Column("claim_wait_seconds", sa.Integer(), nullable=True))
    _fill_claimed_orders()
    op.drop_index("ix_orders_claimed", table_name="orders")
    op.create_index(
        "ix_orders_claimed",
        "orders",
        ["account_id", "claimed_at", "assignee_id", "claim_wait_seconds"],
    )


def downgrade() -> None:
    op.drop_index("ix_orders_claimed", table_name="orders")
    op.create_index(
        "ix_orders_claimed", "orders", ["account_id", "claimed_at", "assignee_id", "created_at"]
    )
    op.drop_column("orders", "claim_wait_seconds")


# ---- the orders claimed before ----------------------------------------------------------------

_accounts = sa.table(
    "accounts",
    sa.column("id", BigId),
    sa.column("timezone", sa.String),
    sa.column("work_start", sa.SmallInteger),
    sa.column("work_end", sa.SmallInteger),
    sa.column("work_days", sa.String),
)
_orders = sa.table(
    "orders",
    sa.column("id", BigId),
    sa.column("account_id", BigId),
    sa.column("created_at", UTC),
    sa.column("claimed_at", UTC),
    sa.column("claim_wait_seconds", sa.Integer),
)


def _fill_claimed_orders() -> None:
    """Every claimed order's wait, in batches along the primary key (never all rows in memory,
    each batch one index range), with its account's hours."""
    conn = op.get_bind()
    hours = {
        row.id: SimpleNamespace(
            timezone=row.timezone,
            work_start=row.work_start,
            work_end=row.work_end,
            work_days=row.work_days,
        )
        for row in conn.execute(sa.select(_accounts)).all()
    }
    fill = (
        sa.update(_orders)
        .where(_orders.c.id == sa.bindparam("order_id"))
        .values(claim_wait_seconds=sa.bindparam("wait"))
    )
    after = 0
    while True:
        claimed = conn.execute(
            sa.select(
                _orders.c.id, _orders.c.account_id, _orders.c.created_at, _orders.c.claimed_at
            )
            .where(_orders.c.id > after, _orders.c.claimed_at.is_not(None))
            .order_by(_orders.c.id)
            .limit(BATCH)
        ).all()
        if not claimed:
            return
        conn.execute(
            fill,
            [
                {"order_id": i, "wait": working_seconds(hours[account], created_at, claimed_at)}
                for i, account, created_at, claimed_at in claimed
            ],
        )
        after = claimed[-1].id
