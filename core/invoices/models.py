"""Invoices, the payer's details, the numbering counters and the bank documents applied."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, BigId, UTCDateTime


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    CANCELLED = "cancelled"


class InvoiceKind(StrEnum):
    PREPAY = "prepay"  # the platform tariff for `months`
    TOPUP = "topup"  # the services balance


class PaymentStatus(StrEnum):
    APPLIED = "applied"  # matched to an invoice (paid, partly paid or credited)
    UNMATCHED = "unmatched"  # waits for the operator (`billing assign`)
    ASSIGNED = "assigned"  # the operator assigned it by hand
    IGNORED = "ignored"  # the operator decided it is not ours to apply


class PayerDetails(Base):
    """The shop's own details as a payer (/requisites): printed on its invoices."""

    __tablename__ = "payer_details"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200))
    inn: Mapped[str] = mapped_column(String(12))
    kpp: Mapped[str | None] = mapped_column(String(9))
    address: Mapped[str | None] = mapped_column(String(300))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InvoiceCounter(Base):
    """The last number given per operator prefix and year; incremented in the issuing
    transaction, so two invoices never share a number (its row lock orders them)."""

    __tablename__ = "invoice_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    """Immutable once issued: only its status, the money received and the dates of those move.

    It keeps the supplier's and the payer's details and its lines as they were when issued."""

    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    months: Mapped[int | None] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    total: Mapped[int] = mapped_column(BigInteger)  # kopecks
    received: Mapped[int] = mapped_column(BigInteger, default=0)  # kopecks counted toward it
    status: Mapped[str] = mapped_column(String(16), default=InvoiceStatus.ISSUED)
    purpose: Mapped[str] = mapped_column(String(210))
    locale: Mapped[str] = mapped_column(String(8))
    supplier: Mapped[dict[str, Any]] = mapped_column(JSON)
    payer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # "renewal:<account>:<paid-through>" for the one issued with the renewal reminders.
    auto_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BankPayment(Base):
    """One incoming bank document, stored once ever (its `doc_key`): a statement imported
    again, or overlapping, finds its documents here and changes nothing."""

    __tablename__ = "bank_payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # number|date|payer account|amount: the bank document's identity.
    doc_key: Mapped[str] = mapped_column(String(200), unique=True)
    doc_number: Mapped[str] = mapped_column(String(40))
    doc_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    payer_name: Mapped[str | None] = mapped_column(String(300))
    payer_inn: Mapped[str | None] = mapped_column(String(12))
    payer_account: Mapped[str | None] = mapped_column(String(34))
    purpose: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(String(40))  # why it is unmatched
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    to_invoice: Mapped[int] = mapped_column(BigInteger, default=0)  # kopecks counted to it
    to_balance: Mapped[int] = mapped_column(BigInteger, default=0)  # kopecks credited
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
