from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, BigId, UTCDateTime


class Customer(Base):
    """A person who orders, one per account: found again by phone (E.164), else by email."""

    __tablename__ = "customers"
    __table_args__ = (
        # One customer per phone and per email in an account; the constraint, not a prior read,
        # is what keeps two concurrent intakes from creating the same customer twice.
        Index(
            "uq_customers_account_phone",
            "account_id",
            "phone",
            unique=True,
            sqlite_where=text("phone IS NOT NULL"),
            postgresql_where=text("phone IS NOT NULL"),
        ),
        Index(
            "uq_customers_account_email",
            "account_id",
            "email",
            unique=True,
            sqlite_where=text("email IS NOT NULL"),
            postgresql_where=text("email IS NOT NULL"),
        ),
        Index("ix_customers_account_name", "account_id", "name"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))  # E.164
    email: Mapped[str | None] = mapped_column(String(200))  # stripped, lower case
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Merged into another customer: this row keeps its id (old buttons lead to the survivor)
    # and gives up its phone and email.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
