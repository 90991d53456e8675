from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, BigId, UTCDateTime


class OrderStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (OrderStatus.NEW, OrderStatus.IN_PROGRESS)
CLOSED_STATUSES = (OrderStatus.COMPLETED, OrderStatus.CANCELLED)


class OrderSource(StrEnum):
    API = "api"
    CSV = "csv"
    MANUAL = "manual"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    ECWID = "ecwid"
    TILDA = "tilda"
    INSALES = "insales"


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "number"),
        # NULLs never collide, so manual orders without an external id coexist.
        UniqueConstraint("account_id", "external_id"),
        # Keyset pagination, newest first: (account, created_at desc, id desc) per tab.
        Index("ix_orders_feed", "account_id", "created_at", "id"),
        Index("ix_orders_assignee_feed", "account_id", "assignee_id", "created_at", "id"),
        # assignee_id last: the report counts the period's open orders per assignee from it.
        Index("ix_orders_status_feed", "account_id", "status", "created_at", "id", "assignee_id"),
        # The claim-timer job, across accounts: open unassigned orders whose timer has steps left.
        Index("ix_orders_unclaimed", "assignee_id", "status", "claim_step", "created_at"),
        # /orders: an account's unclaimed orders past their time, counted (core.orders.claims).
        Index("ix_orders_waiting", "account_id", "assignee_id", "status", "created_at"),
        # The report's speed: orders first taken into work in a period, covering what the
        # median time to claim reads (no order row is read).
        Index("ix_orders_claimed", "account_id", "claimed_at", "assignee_id", "claim_wait_seconds"),
        # Reports: cancelled orders by the time of their cancellation (their last change), per
        # reason, without reading the rows.
        Index("ix_orders_status_changed", "account_id", "status", "updated_at", "cancel_reason"),
        # Sales reports: completed orders by completion time, covering the summed columns and
        # the time from claim to completion (its median).
        Index(
            "ix_orders_completed",
            "account_id",
            "status",
            "completed_at",
            "assignee_id",
            "currency",
            "total",
            "completion_seconds",
        ),
        # A customer's orders (their card, the history line on an order card).
        Index("ix_orders_customer", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_phone: Mapped[str | None] = mapped_column(String(40))
    customer_email: Mapped[str | None] = mapped_column(String(200))
    customer_address: Mapped[str | None] = mapped_column(String(500))
    # [{"title": str, "qty": int, "price": kopecks}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(BigInteger)  # kopecks
    currency: Mapped[str] = mapped_column(String(3))
    comment: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.NEW)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the store's own time
    # The store's updated-at of the version applied last: an older event never overwrites it.
    external_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the order was first taken into work (claimed or assigned): time-to-claim figures.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How long it waited for that, in working seconds (core.accounts.hours.working_seconds, the
    # account's hours at that moment): set with claimed_at, never after; the report's median.
    claim_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    # From claimed_at to completed_at in whole seconds, set with completed_at (None: not
    # completed, or never claimed); the report's median time to completion.
    completion_seconds: Mapped[int | None] = mapped_column(Integer)
    # Why it was cancelled: a code of core.orders.service.CANCEL_REASONS or the member's words.
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    # Who ordered (core/customers): set at intake from the phone, else the email.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    # How far the claim timer went while it waited unclaimed (core.orders.claims.Step): each step
    # is taken once, by a compare-and-set on this column.
    claim_step: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class OrderSubscription(Base):
    """A member who opted in to announcements of new orders (/notify orders on)."""

    __tablename__ = "order_subscriptions"
    __table_args__ = (UniqueConstraint("member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ManagerGroup(Base):
    """The account's manager group chat, linked by /linkgroup inside it."""

    __tablename__ = "manager_groups"
    __table_args__ = (UniqueConstraint("account_id"), UniqueConstraint("chat_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(255))
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
