"""leases (one process of the fleet exports the fleet-wide gauges); outbox by age (retention)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db.base


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=128), nullable=False),
    sa.Column('expires_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leases'))
    )
    # The retention job deletes the oldest finished messages in batches: by age, not a scan.
    op.create_index('ix_outbox_created_at', 'outbox', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_created_at', table_name='outbox')
    op.drop_table('leases')
