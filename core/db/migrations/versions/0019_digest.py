"""morning digest: who gets it (members.digest), the local day it was last sent
(members.digest_sent_on, the once-a-day compare-and-set) and the account's local hour for it

Revision ID: 0019_digest
Revises: 0016
Create Date: 2026-12-07 14:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0019_digest"
down_revision = "0018_claim_timers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("digest_hour", sa.SmallInteger(), server_default="9", nullable=False)
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("digest", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("digest_sent_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("digest_sent_on")
        batch_op.drop_column("digest")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("digest_hour")
