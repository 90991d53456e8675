"""indexes for the renewal sweep and the sales report: an account's services by status and end
date (what the sweep looks up per account), and the open-orders feed covering the assignee (the
report groups the period's open orders by assignee from the index alone)

Revision ID: 0020_sweep_index
Revises: 0016
Create Date: 2026-12-07 14:45:00.000000
"""

from alembic import op


revision = "0020_sweep_index"
down_revision = "0019_digest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # (account_id, status) is a prefix of the new index: it serves every query the old one did.
    op.drop_index("ix_connected_services_account_status", table_name="connected_services")
    op.create_index(
        "ix_connected_services_account_status_ends_on",
        "connected_services",
        ["account_id", "status", "ends_on", "id"],
    )
    # The same keys and order for the lists' keyset pages, plus the assignee at the end.
    op.drop_index("ix_orders_status_feed", table_name="orders")
    op.create_index(
        "ix_orders_status_feed",
        "orders",
        ["account_id", "status", "created_at", "id", "assignee_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_orders_status_feed", table_name="orders")
    op.create_index("ix_orders_status_feed", "orders", ["account_id", "status", "created_at", "id"])
    op.drop_index("ix_connected_services_account_status_ends_on", table_name="connected_services")
    op.create_index(
        "ix_connected_services_account_status", "connected_services", ["account_id", "status"]
    )
