"""/orders counts an account's unclaimed orders past their claim time from an index that leads
with the account and the missing assignee (the status feed read every open order instead)

Revision ID: 0024_waiting_orders
Revises: 0023_report_speed
Create Date: 2026-12-07 16:15:00.000000
"""

from alembic import op

revision = "0024_waiting_orders"
down_revision = "0023_report_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_waiting", "orders", ["account_id", "assignee_id", "status", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_orders_waiting", table_name="orders")
