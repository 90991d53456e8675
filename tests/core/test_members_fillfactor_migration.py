"""Migration 0028_members_fillfactor leaves room on the members' pages on PostgreSQL (their
updates stay on the page, without index entries); SQLite has no such setting and its members
are untouched either way."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from core.accounts.models import Account
from core.db.migrate import upgrade
from core.members.models import Member
from tests.support.db import insert_as_it_was, stored_account

BEFORE = "0027_outbox_writes"
T = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def test_members_keep_room_on_their_pages(old_engine):
    async with old_engine.begin() as conn:
        account = await insert_as_it_was(conn, Account, stored_account(T))
        role = await conn.scalar(
            text(
                "INSERT INTO roles (account_id, code, builtin, permissions) "
                "VALUES (:a, 'owner', true, '[]') RETURNING id"
            ),
            {"a": account},
        )
        member = await insert_as_it_was(
            conn,
            Member,
            {
                "account_id": account,
                "telegram_id": 42,
                "full_name": "Owner",
                "role_id": role,
                "status": "active",
                "joined_at": T,
            },
        )

    await upgrade(old_engine)

    async with old_engine.connect() as conn:
        kept = await conn.scalar(
            text("SELECT telegram_id FROM members WHERE id = :m"), {"m": member}
        )
        if old_engine.dialect.name == "postgresql":
            options = await conn.scalar(
                text("SELECT reloptions FROM pg_class WHERE oid = 'members'::regclass")
            )
            assert options == ["fillfactor=80"]
    assert kept == 42
