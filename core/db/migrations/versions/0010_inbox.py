"""inbox: webhook updates written before Telegram is answered, handled under leases

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db.base


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', core.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', core.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_inbox'))
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_due', ['status', 'lease_until'], unique=False)
        batch_op.create_index('ix_inbox_done_at', ['done_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_done_at')
        batch_op.drop_index('ix_inbox_due')

    op.drop_table('inbox')
