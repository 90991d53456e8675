"""shop settings: the account's phone country, morning/evening hours, quiet-hours window; an
order's cancel reason

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(
            sa.Column("morning_hour", sa.SmallInteger(), server_default="9", nullable=False)
        )
        batch_op.add_column(
            sa.Column("evening_hour", sa.SmallInteger(), server_default="19", nullable=False)
        )
        batch_op.add_column(
            sa.Column("quiet_start", sa.SmallInteger(), server_default="22", nullable=False)
        )
        batch_op.add_column(
            sa.Column("quiet_end", sa.SmallInteger(), server_default="8", nullable=False)
        )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("quiet_end")
        batch_op.drop_column("quiet_start")
        batch_op.drop_column("evening_hour")
        batch_op.drop_column("morning_hour")
        batch_op.drop_column("country")
