from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, BigId, UTCDateTime


class ServiceStatus(StrEnum):
    ORDERED = "ordered"  # paid, waiting to be provisioned
    NEEDS_SETUP = "needs_setup"
    ACTIVE = "active"
    SUSPENDED = "suspended"  # auto-renew on, the balance did not cover the renewal
    DISCONNECTED = "disconnected"
    CLOSED = "closed"  # the return window passed; resources went back to the pool


LAPSED = (ServiceStatus.SUSPENDED, ServiceStatus.DISCONNECTED)
PENDING = (ServiceStatus.ORDERED, ServiceStatus.NEEDS_SETUP)
OPEN = (*PENDING, ServiceStatus.ACTIVE, *LAPSED)


class ConnectedService(Base):
    """A catalog service connected to an account. Dates are local days of the account's zone."""

    __tablename__ = "connected_services"
    __table_args__ = (
        # An account's services by status and end date, in id order: the sweep reads its runs in
        # renewal order from it without sorting (a sort of 100,000 rows spilled to disk).
        Index(
            "ix_connected_services_account_status_ends_on", "account_id", "status", "ends_on", "id"
        ),
        Index("ix_connected_services_status_ends_on", "status", "ends_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    catalog_code: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    # The price charged at each renewal, fixed when ordered.
    price: Mapped[int] = mapped_column(BigInteger)
    period_months: Mapped[int] = mapped_column(Integer)
    setup_needed: Mapped[bool] = mapped_column(Boolean)
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True)
    # The current period is [started_on, ends_on); both unset until the service is active.
    started_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # Day of month periods are counted from, so 31 Jan → 28 Feb → 31 Mar.
    anchor_day: Mapped[int | None] = mapped_column(Integer)
    # The day it last stopped (suspended/disconnected); the 14-day return window counts from it.
    lapsed_on: Mapped[date | None] = mapped_column(Date)
    # Bumped by every transition: keys of user actions and stale buttons refer to it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    ordered_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PoolResource(Base):
    """One item of a platform-wide pool (e.g. a tracking number), held by at most one service."""

    __tablename__ = "pool_resources"
    __table_args__ = (
        UniqueConstraint("kind", "value"),
        Index("ix_pool_resources_kind_service", "kind", "service_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("connected_services.id", ondelete="SET NULL")
    )
    held_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
