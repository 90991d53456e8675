"""Imports every feature's models so `Base.metadata` is complete (migrations, tests)."""

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.connectors.models import Connector, ConnectorDelivery, StatusHook, StatusPost
from core.customers.models import Customer
from core.db.base import Base
from core.inbox.models import InboxUpdate
from core.intake.models import ApiToken
from core.invoices.models import BankPayment, Invoice, InvoiceCounter, PayerDetails
from core.journal.models import ConnectedService, PoolResource
from core.leases.models import Lease
from core.ledger.models import Balance, LedgerEntry
from core.members.models import Invite, Member, Role
from core.notifications.models import DeliveryAttempt, OutboxMessage
from core.orders.models import ManagerGroup, Order, OrderSubscription
from core.tariff.models import TariffPayment
from core.tasks.models import Task

__all__ = [
    "Account",
    "ApiToken",
    "AuditEntry",
    "Balance",
    "BankPayment",
    "Base",
    "ConnectedService",
    "Connector",
    "ConnectorDelivery",
    "Customer",
    "DeliveryAttempt",
    "InboxUpdate",
    "Invite",
    "Invoice",
    "InvoiceCounter",
    "Lease",
    "LedgerEntry",
    "ManagerGroup",
    "Member",
    "Order",
    "OrderSubscription",
    "OutboxMessage",
    "PayerDetails",
    "PoolResource",
    "Role",
    "StatusHook",
    "StatusPost",
    "TariffPayment",
    "Task",
]
