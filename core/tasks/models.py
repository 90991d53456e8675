from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, BigId, UTCDateTime

TEXT_LIMIT = 1000
NOTICE_TEXT = 500  # of it in a notification


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class Task(Base):
    """Something to do about an order, by one member, optionally by a due time."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_order", "order_id", "status"),
        # /tasks: open tasks of one assignee (Mine) or of the account (Overdue, All), by due.
        Index("ix_tasks_assignee_open", "account_id", "status", "assignee_id", "due_at"),
        Index("ix_tasks_account_open", "account_id", "status", "due_at"),
        Index("ix_tasks_remind", "remind_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(TEXT_LIMIT))
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8), default=TaskStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # The reminder: armed for `remind_at` (NULL: nothing to send). The job claims it with a
    # compare-and-set that clears it and records the due time it reminded for.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
