"""Imports every feature's models so `Base.metadata` is complete (migrations, tests)."""

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.db.base import Base
from core.journal.models import ConnectedService, PoolResource  # noqa: F401
from core.ledger.models import Balance, LedgerEntry  # noqa: F401
from core.members.models import Invite, Member, Role
from core.notifications.models import DeliveryAttempt, OutboxMessage
from core.tariff.models import TariffPayment

__all__ = [
    "Account",
    "AuditEntry",
    "Base",
    "DeliveryAttempt",
    "Invite",
    "Member",
    "OutboxMessage",
    "Role",
    "TariffPayment",
]
