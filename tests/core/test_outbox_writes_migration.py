"""Migration 0027_outbox_writes takes the outbox's foreign keys off and narrows its index of
edits to the edits; what the outbox holds, and the attempts that refer to it, stay."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from core.accounts.models import Account
from core.db.migrate import upgrade
from core.notifications.models import DeliveryAttempt, OutboxMessage
from tests.support.db import insert_as_it_was, stored_account

BEFORE = "0026_completion_time"
T = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _message(account: int, key: str, edit_of: str | None = None) -> dict:
    return {
        "account_id": account,
        "event_key": key,
        "chat_id": 42,
        "kind": "order_new",
        "edit_of": edit_of,
        "params": {"number": key},
        "locale": "ru",
        "status": "sent",
        "not_before": T,
        "created_at": T,
    }


async def test_the_outbox_keeps_its_rows_and_loses_its_foreign_keys(old_engine):
    async with old_engine.begin() as conn:
        account = await insert_as_it_was(conn, Account, stored_account(T))
        sent = await insert_as_it_was(conn, OutboxMessage, _message(account, "order:1"))
        edit = await insert_as_it_was(
            conn, OutboxMessage, _message(account, "order:1:claimed", edit_of="order:1")
        )
        await insert_as_it_was(
            conn, DeliveryAttempt, {"outbox_id": sent, "at": T, "outcome": "sent"}
        )

    await upgrade(old_engine)

    async with old_engine.connect() as conn:
        kept = (await conn.execute(text("SELECT id, edit_of FROM outbox ORDER BY id"))).all()
        attempts = (await conn.execute(text("SELECT outbox_id FROM outbox_attempts"))).all()
        keys, indexes = await conn.run_sync(
            lambda sync: (
                inspect(sync).get_foreign_keys("outbox"),
                {ix["name"]: ix for ix in inspect(sync).get_indexes("outbox")},
            )
        )
    assert [tuple(r) for r in kept] == [(sent, None), (edit, "order:1")]
    assert [tuple(r) for r in attempts] == [(sent,)]  # the table's rebuild cascaded nothing
    assert keys == []
    edits = indexes["ix_outbox_edit_of"]
    assert edits["column_names"] == ["edit_of", "chat_id"]
    where = edits.get("dialect_options", {})
    assert "edit_of IS NOT NULL" in str(where.get("postgresql_where", where.get("sqlite_where"))), (
        edits
    )
    assert {"ix_outbox_due", "ix_outbox_created_at"} <= set(indexes)
