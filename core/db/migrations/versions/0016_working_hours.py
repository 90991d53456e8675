"""working hours: the account's working hours and days (claim timers, digest); when an order was
first taken into work (claimed_at)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 07:10:00.000000
"""

from alembic import op
import sqlalchemy as sa

import core.db.base


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("work_start", sa.SmallInteger(), server_default="9", nullable=False)
        )
        batch_op.add_column(
            sa.Column("work_end", sa.SmallInteger(), server_default="18", nullable=False)
        )
        batch_op.add_column(
            sa.Column("work_days", sa.String(length=7), server_default="12345", nullable=False)
        )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_at", core.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("work_days")
        batch_op.drop_column("work_end")
        batch_op.drop_column("work_start")
