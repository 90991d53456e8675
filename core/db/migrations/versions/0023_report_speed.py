"""the sales report's speed reads from indexes alone: orders claimed in a period carry the
assignee and the creation time in ix_orders_claimed, completed ones the claim time in
ix_orders_completed (no order row is read for the medians)

Revision ID: 0023_report_speed
Revises: 0021_cancel_reasons
Create Date: 2026-12-07 15:20:00.000000
"""

from alembic import op


revision = "0023_report_speed"
down_revision = "0021_cancel_reasons"
branch_labels = None
depends_on = None

COMPLETED = ["account_id", "status", "completed_at", "assignee_id", "currency", "total"]


def upgrade() -> None:
    # The old keys stay the leading columns: every query the old indexes served, these serve.
    op.drop_index("ix_orders_claimed", table_name="orders")
    op.create_index(
        "ix_orders_claimed", "orders", ["account_id", "claimed_at", "assignee_id", "created_at"]
    )
    op.drop_index("ix_orders_completed", table_name="orders")
    op.create_index("ix_orders_completed", "orders", [*COMPLETED, "claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_completed", table_name="orders")
    op.create_index("ix_orders_completed", "orders", COMPLETED)
    op.drop_index("ix_orders_claimed", table_name="orders")
    op.create_index("ix_orders_claimed", "orders", ["account_id", "claimed_at"])
