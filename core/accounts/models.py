from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, SmallInteger, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, BigId, UTCDateTime


class Account(Base):
    """One business (tenant)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tariff_code: Mapped[str] = mapped_column(String(40))
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    paid_through: Mapped[date | None] = mapped_column(Date)
    # Alerts are held between 22:00 and 08:00 local time unless the account turns this off.
    quiet_hours: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Shortages of the balance, counted: the low-balance alert names its episode, so it goes
    # out once per shortage — again after a top-up covered one and a new one began.
    low_balance_episode: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    low_balance_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # ISO 3166 alpha-2 region phone numbers are read in when written without +country code;
    # None: RU (see core.accounts.service.phone_region).
    country: Mapped[str | None] = mapped_column(String(2))
    # What "утром"/"вечером" (morning/evening) and a due day without a time mean: local hours.
    morning_hour: Mapped[int] = mapped_column(SmallInteger, default=9, server_default="9")
    evening_hour: Mapped[int] = mapped_column(SmallInteger, default=19, server_default="19")
    # The quiet-hours window (local hours): alerts wait from quiet_start until quiet_end.
    quiet_start: Mapped[int] = mapped_column(SmallInteger, default=22, server_default="22")
    quiet_end: Mapped[int] = mapped_column(SmallInteger, default=8, server_default="8")
    # Working hours (local, start inclusive, end exclusive) and days ("12345" = Monday–Friday,
    # ISO weekday digits): claim timers run and digests go out only then (core.accounts.hours).
    work_start: Mapped[int] = mapped_column(SmallInteger, default=9, server_default="9")
    work_end: Mapped[int] = mapped_column(SmallInteger, default=18, server_default="18")
    work_days: Mapped[str] = mapped_column(String(7), default="12345", server_default="12345")
    # Claim timers (core.orders.claims): minutes of working time an order may wait unclaimed.
    claim_minutes: Mapped[int] = mapped_column(SmallInteger, default=15, server_default="15")
    # How new orders find a manager: "claim" (announced, someone claims) or "auto"
    # (core.orders.distribution), never giving a manager more than open_cap open orders.
    distribution: Mapped[str] = mapped_column(String(8), default="claim", server_default="claim")
    open_cap: Mapped[int] = mapped_column(SmallInteger, default=20, server_default="20")
    # Managers go off shift at the end of working hours (core.orders.shifts).
    shift_auto_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The local hour the morning digest goes out on working days (core.digest).
    digest_hour: Mapped[int] = mapped_column(SmallInteger, default=9, server_default="9")
