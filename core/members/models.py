from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db.base import Base, BigId, UTCDateTime


class MemberStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    REMOVED = "removed"


class Role(Base):
    """A named set of permissions; built-in ones are created with the account."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("account_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    permissions: Mapped[list[str]] = mapped_column(JSON)


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("account_id", "telegram_id"),
        Index("ix_members_telegram_id", "telegram_id"),
        # Updated all day, never on an indexed column: room on each page keeps the updates
        # there (HOT), without new index entries (migration 0028).
        {"postgresql_with": {"fillfactor": 80}},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.ACTIVE)
    locale: Mapped[str | None] = mapped_column(String(8))
    blocked_reason: Mapped[str | None] = mapped_column(String(500))
    # Set when the blocked member has been told once; cleared on unblock.
    block_notice_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    # The lapsed paid-through date this member was told about (the account is read-only).
    read_only_notice_for: Mapped[date | None] = mapped_column(Date)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The member blocked the bot: nothing is sent to them until they write again.
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Admins opt in to account alerts (the owner always gets them).
    alerts_opt_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # On shift: gets re-announced unclaimed orders and, with auto distribution, new orders.
    on_shift: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    shift_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last automatic assignment: ties between equally loaded managers go to the longest idle.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The morning digest (/digest on|off; on for every built-in role) and the account-local day
    # it was last sent: the job's compare-and-set on it sends at most one a day.
    digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    digest_sent_on: Mapped[date | None] = mapped_column(Date)

    role: Mapped[Role] = relationship(lazy="joined", innerjoin=True)

    @property
    def display_name(self) -> str:
        return f"@{self.username}" if self.username else self.full_name


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # The monthly cost (kopecks) the inviter agreed to when the join costs prepaid days.
    confirmed_monthly_cost: Mapped[int | None] = mapped_column(BigInteger)
