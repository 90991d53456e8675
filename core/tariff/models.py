from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, BigId, UTCDateTime


class TariffPayment(Base):
    """A recorded subscription payment. A reference counts once per account (UNIQUE)."""

    __tablename__ = "tariff_payments"
    __table_args__ = (UniqueConstraint("account_id", "reference"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    tariff_code: Mapped[str] = mapped_column(String(40))
    months: Mapped[int] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)  # kopecks, the invoice total
    # The bank's or the payment system's id; NULL (no reference) never collides.
    reference: Mapped[str | None] = mapped_column(String(100))
    paid_through_before: Mapped[date | None] = mapped_column(Date)
    paid_through_after: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
