"""outbox edits: a message may edit an earlier one; announcements live in the outbox

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-07 01:15:00.000000
"""
from alembic import op
import sqlalchemy as sa
import core.db.base


revision = '0009'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edit_of', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_outbox_edit_of', ['edit_of', 'chat_id'], unique=False)

    # The outbox row of an announcement holds its Telegram message id now.
    with op.batch_alter_table('order_announcements', schema=None) as batch_op:
        batch_op.drop_index('ix_order_announcements_order')

    op.drop_table('order_announcements')


def downgrade() -> None:
    op.create_table('order_announcements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('created_at', core.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_announcements_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_announcements'))
    )
    with op.batch_alter_table('order_announcements', schema=None) as batch_op:
        batch_op.create_index('ix_order_announcements_order', ['order_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_edit_of')
        batch_op.drop_column('edit_of')
