"""reports: cancelled orders per reason read from an index (account, status, last change, reason)

Revision ID: 0021_cancel_reasons
Revises: 0020_sweep_index
Create Date: 2026-12-07 15:00:00.000000
"""

from alembic import op

revision = "0021_cancel_reasons"
down_revision = "0020_sweep_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_status_changed",
        "orders",
        ["account_id", "status", "updated_at", "cancel_reason"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_orders_status_changed", table_name="orders")
