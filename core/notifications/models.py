from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, BigId, UTCDateTime


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up: Telegram refused it for good
    UNREACHABLE = "unreachable"  # the recipient blocked the bot
    SKIPPED = "skipped"  # an edit with nothing left to edit, or a newer edit replaced it


class OutboxMessage(Base):
    """One notification to one chat, written with the event that causes it.

    (event_key, chat_id) is unique, so an event can never produce two messages to a chat —
    across retries, restarts and several bot processes. A row with `edit_of` edits the message
    sent to its chat under that event key, once that one is sent.

    A delivery log written in bulk (the morning digest writes a row per member in one
    statement), so `account_id` and `member_id` record whom a message was for without foreign
    keys: every writer takes them from the account's and member's rows in the same
    transaction, and neither is ever deleted (members are blocked, not removed). Their two
    per-row checks were a fifth of the digest's statement on PostgreSQL.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("event_key", "chat_id"),
        Index("ix_outbox_due", "status", "not_before"),
        # Only edits are looked up by the message they edit: the index holds just those rows.
        Index(
            "ix_outbox_edit_of",
            "edit_of",
            "chat_id",
            postgresql_where=text("edit_of IS NOT NULL"),
            sqlite_where=text("edit_of IS NOT NULL"),
        ),
        Index("ix_outbox_created_at", "created_at"),  # retention deletes the oldest first
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(BigId)
    event_key: Mapped[str] = mapped_column(String(200))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[int | None] = mapped_column(BigId)
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(64))
    edit_of: Mapped[str | None] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    locale: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """Every attempt to send an outbox message, whatever came of it."""

    __tablename__ = "outbox_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(500))
