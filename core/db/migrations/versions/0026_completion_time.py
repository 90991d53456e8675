"""completed orders keep how long they took from the claim to the completion in seconds
(completion_seconds, written with completed_at by change_status); the report's median to
completion reads it from ix_orders_completed instead of working out Julian days per row

Revision ID: 0026_completion_time
Revises: 0025_claim_wait
Create Date: 2026-12-07 18:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0026_completion_time"
down_revision = "0025_claim_wait"
branch_labels = None
depends_on = None

COMPLETED = ["account_id", "status", "completed_at", "assignee_id", "currency", "total"]


def upgrade() -> None:
    op.add_column("orders", sa.Column("completion_seconds", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        took = "CAST(ROUND((julianday(completed_at) - julianday(claimed_at)) * 86400) AS INTEGER)"
        took = f"MAX({took}, 0)"
    else:
        took = "GREATEST(CAST(ROUND(EXTRACT(EPOCH FROM completed_at - claimed_at)) AS INTEGER), 0)"
    op.execute(
        f"UPDATE orders SET completion_seconds = {took} "
        "WHERE status = 'completed' AND completed_at IS NOT NULL AND claimed_at IS NOT NULL"
    )
    op.drop_index("ix_orders_completed", table_name="orders")
    op.create_index("ix_orders_completed", "orders", [*COMPLETED, "completion_seconds"])


def downgrade() -> None:
    op.drop_index("ix_orders_completed", table_name="orders")
    op.create_index("ix_orders_completed", "orders", [*COMPLETED, "claimed_at"])
    op.drop_column("orders", "completion_seconds")
