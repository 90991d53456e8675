"""the outbox is a delivery log written in bulk (the morning digest writes a row per member): its
account_id and member_id keep whom a message was for without foreign keys (accounts and members
are never deleted, and the two per-row checks were a fifth of the digest's statement), and
ix_outbox_edit_of holds only the edits (WHERE edit_of IS NOT NULL), the rows it is read for

Revision ID: 0027_outbox_writes
Revises: 0026_completion_time
Create Date: 2026-12-07 20:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0027_outbox_writes"
down_revision = "0026_completion_time"
branch_labels = None
depends_on = None

EDITS = sa.text("edit_of IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("fk_outbox_account_id_accounts", type_="foreignkey")
        batch.drop_constraint("fk_outbox_member_id_members", type_="foreignkey")
    op.drop_index("ix_outbox_edit_of", table_name="outbox")
    op.create_index(
        "ix_outbox_edit_of",
        "outbox",
        ["edit_of", "chat_id"],
        postgresql_where=EDITS,
        sqlite_where=EDITS,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_edit_of", table_name="outbox")
    op.create_index("ix_outbox_edit_of", "outbox", ["edit_of", "chat_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.create_foreign_key(
            "fk_outbox_account_id_accounts", "accounts", ["account_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_foreign_key("fk_outbox_member_id_members", "members", ["member_id"], ["id"])
