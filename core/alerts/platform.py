"""The platform subscription reminders: the owner hears 7, 3 and 1 days before the account's
paid-through date, with the invoice preview (the days come from the tariff catalog)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.members.models import Member, MemberStatus
from core.notifications.outbox import Recipient, enqueue
from core.tariff.catalog import Catalog
from core.tariff.pricing import Invoice
from core.tariff.service import RenewalReminder, due_renewal_reminders

REMINDER = "tariff.reminder"


def invoice_params(bill: Invoice) -> dict[str, Any]:
    """The invoice as JSON, so the message shows what it was when the reminder was written."""
    tariff = bill.tariff
    return {
        "tariff": {
            "code": tariff.code,
            "name_ru": tariff.name_ru,
            "name_en": tariff.name_en,
            "monthly_price": tariff.monthly_price,
            "free_users": tariff.free_users,
        },
        "months": bill.months,
        "members": bill.members,
        "discount_percent": str(bill.discount_percent),
        "lines": [
            {
                "kind": str(line.kind),
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "months": line.months,
                "amount": line.amount,
                "discount": line.discount,
            }
            for line in bill.lines
        ],
    }


def reminder_params(reminder: RenewalReminder, catalog: Catalog) -> dict[str, Any]:
    return {
        "paid_through": reminder.paid_through.isoformat(),
        "days_left": reminder.days_left,
        "days_before": reminder.days_before,
        "invoice": invoice_params(reminder.invoice),
        "periods": list(catalog.periods),
    }


async def _owner(uow: UnitOfWork, reminder: RenewalReminder) -> Recipient | None:
    owner = (
        await uow.session.scalars(
            select(Member).where(
                Member.account_id == reminder.account_id,
                Member.telegram_id == reminder.owner_telegram_id,
                Member.status == MemberStatus.ACTIVE,
                Member.unreachable.is_(False),
            )
        )
    ).first()
    if owner is None:
        return None
    return Recipient(owner.telegram_id, reminder.locale, owner.id)


async def enqueue_platform_reminders(uow: UnitOfWork, catalog: Catalog) -> int:
    """Writes the reminders due now and commits. The event key (account, paid-through date,
    days before) is unique, so two processes, or runs every few minutes, send each once."""
    added = 0
    for reminder in await due_renewal_reminders(uow, catalog):
        recipient = await _owner(uow, reminder)
        if recipient is None:
            continue
        account = await uow.session.get(Account, reminder.account_id)
        added += await enqueue(
            uow,
            account=account,
            event_key=reminder.event_key,
            kind=REMINDER,
            params=reminder_params(reminder, catalog),
            recipients=[recipient],
        )
    await uow.commit()
    return added
