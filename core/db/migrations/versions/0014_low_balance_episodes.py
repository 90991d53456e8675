"""low-balance episodes: the alert is sent once per shortage, not once per date

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 04:15:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('low_balance_episode', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(
            sa.Column('low_balance_open', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('low_balance_open')
        batch_op.drop_column('low_balance_episode')
