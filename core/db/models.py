"""Imports every feature's models so `Base.metadata` is complete (migrations, tests)."""

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.db.base import Base
from core.intake.models import ApiToken
from core.members.models import Invite, Member, Role
from core.orders.models import ManagerGroup, Order, OrderAnnouncement, OrderSubscription

__all__ = [
    "Account",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Invite",
    "ManagerGroup",
    "Member",
    "Order",
    "OrderAnnouncement",
    "OrderSubscription",
    "Role",
]
