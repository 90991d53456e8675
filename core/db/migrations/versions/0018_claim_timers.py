"""claim timers and auto-assignment: the account's claim time, distribution and cap of open
orders per manager, automatic end of shifts; who is on shift and when they last got an order;
how far an unclaimed order's timer has gone (claim_step)

Revision ID: 0018_claim_timers
Revises: 0016
Create Date: 2026-12-07 14:10:00.000000
"""

from alembic import op
import sqlalchemy as sa

import core.db.base


revision = "0018_claim_timers"
down_revision = "0017_customers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claim_minutes", sa.SmallInteger(), server_default="15", nullable=False)
        )
        batch_op.add_column(
            sa.Column("distribution", sa.String(length=8), server_default="claim", nullable=False)
        )
        batch_op.add_column(
            sa.Column("open_cap", sa.SmallInteger(), server_default="20", nullable=False)
        )
        batch_op.add_column(
            sa.Column("shift_auto_off", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_shift", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("shift_started_at", core.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("last_assigned_at", core.db.base.UTCDateTime(timezone=True), nullable=True)
        )

    # In place, not a batch copy: on SQLite a copy of `orders` (its customer_id was added in
    # place by 0017) loses the rows.
    op.add_column(
        "orders", sa.Column("claim_step", sa.SmallInteger(), server_default="0", nullable=False)
    )
    # The claim-timer job, across accounts: open unassigned orders whose timer has steps left.
    op.create_index(
        "ix_orders_unclaimed", "orders", ["assignee_id", "status", "claim_step", "created_at"]
    )
    # The report's speed: orders first taken into work in a period.
    op.create_index("ix_orders_claimed", "orders", ["account_id", "claimed_at"])

    # Orders waiting from before the upgrade are not re-announced and escalated all at once:
    # their timers count as run (they show as overdue in /orders all the same).
    orders = sa.table(
        "orders",
        sa.column("claim_step", sa.SmallInteger()),
        sa.column("assignee_id", sa.BigInteger()),
        sa.column("status", sa.String()),
    )
    op.execute(
        orders.update()
        .where(orders.c.assignee_id.is_(None), orders.c.status.in_(("new", "in_progress")))
        .values(claim_step=2)
    )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_claimed")
        batch_op.drop_index("ix_orders_unclaimed")
        batch_op.drop_column("claim_step")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("last_assigned_at")
        batch_op.drop_column("shift_started_at")
        batch_op.drop_column("on_shift")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("shift_auto_off")
        batch_op.drop_column("open_cap")
        batch_op.drop_column("distribution")
        batch_op.drop_column("claim_minutes")
