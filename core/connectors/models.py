"""Connectors, the deliveries they received, and the outgoing status webhook with its queue."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, BigId, UTCDateTime


class ConnectorStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # stored, not applied yet (or to be retried)
    DONE = "done"  # applied (or changed nothing: a duplicate, an older event)
    FAILED = "failed"  # gave up: the error is kept on the row and on the connector


class Connector(Base):
    """One shop on one platform posting webhooks to /hooks/{platform}/{id}[/{token}].

    A URL token (Tilda, InSales) is kept as its SHA-256 hash; an HMAC key (Shopify, WooCommerce,
    Ecwid) and Ecwid's store token are needed in clear, so they are kept encrypted (Fernet, key
    CONNECTOR_SECRET_KEY) and never shown again."""

    __tablename__ = "connectors"
    __table_args__ = (Index("ix_connectors_account", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default=ConnectorStatus.ACTIVE)
    token_hash: Mapped[str | None] = mapped_column(String(64))
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    store_token_sealed: Mapped[str | None] = mapped_column(Text)
    store_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_test_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConnectorDelivery(Base):
    """A verified webhook delivery, stored before the shop gets its 2xx, applied by the drain.

    (connector_id, delivery_key) is unique: the platform's delivery id, or the hash of the body
    where it sends none, so a retried delivery is stored once."""

    __tablename__ = "connector_deliveries"
    __table_args__ = (
        UniqueConstraint("connector_id", "delivery_key"),
        Index("ix_connector_deliveries_due", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    delivery_key: Mapped[str] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(64))
    store_ref: Mapped[str | None] = mapped_column(String(200))  # shop domain / site / store id
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default=DeliveryStatus.PENDING)
    outcome: Mapped[str | None] = mapped_column(String(16))  # created, updated, unchanged, stale…
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StatusHook(Base):
    """The account's outgoing webhook: ShopDesk POSTs status changes and assignments here."""

    __tablename__ = "status_hooks"
    __table_args__ = (UniqueConstraint("account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    secret_sealed: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StatusPostStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS


class StatusPost(Base):
    """One document to POST to the account's status hook, once per change (event_key unique)."""

    __tablename__ = "status_posts"
    __table_args__ = (
        UniqueConstraint("event_key"),
        Index("ix_status_posts_due", "status", "not_before"),
        Index("ix_status_posts_account", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    event_key: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default=StatusPostStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
