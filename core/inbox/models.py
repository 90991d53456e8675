from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UTCDateTime


class InboxStatus(StrEnum):
    PENDING = "pending"  # accepted (Telegram was answered 2xx), not handled yet
    HANDLED = "handled"
    FAILED = "failed"  # the dispatcher could not take it, or it was tried too many times


class InboxUpdate(Base):
    """One Telegram update taken by the webhook, written before Telegram is answered.

    The update id is the key, so a redelivery (to this process or another) adds nothing.
    A process handles the rows it leased; one that dies leaves them to the others once the
    lease lapses. The payload is cleared when the update is done: it holds what members wrote.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_due", "status", "lease_until"),
        Index("ix_inbox_done_at", "done_at"),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
