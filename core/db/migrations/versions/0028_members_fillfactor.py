"""members are updated all day (the digest's day, shifts, the last automatic assignment, whether
the bot can reach them) and never on an indexed column: on PostgreSQL, pages filled to 80 %
leave room for those updates to stay on their page (HOT), so they write no index entries. The
morning digest marks every member once a day; at 10,000 members the marking took half the
time. Pages written from now on keep the room; `VACUUM FULL members` applies it to the old ones.
SQLite has no such setting.

Revision ID: 0028_members_fillfactor
Revises: 0027_outbox_writes
Create Date: 2026-12-07 23:50:00.000000
"""

from alembic import op


revision = "0028_members_fillfactor"
down_revision = "0027_outbox_writes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE members SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE members RESET (fillfactor)")
