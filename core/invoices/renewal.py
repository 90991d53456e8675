"""The invoice issued with the platform renewal reminders: one per account and paid-through
date (its `auto_key`), for one month at today's seats, sent to the owner as its PDF."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.accounts.models import Account
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.invoices.models import Invoice, InvoiceKind
from core.invoices.operator import Operator
from core.invoices.service import create_invoice, document
from core.notifications.outbox import Recipient, enqueue
from core.tariff.catalog import Catalog
from core.tariff.service import RenewalReminder, due_renewal_reminders

log = logging.getLogger(__name__)
DOCUMENT = "invoice.document"


def renewal_key(reminder: RenewalReminder) -> str:
    return f"renewal:{reminder.account_id}:{reminder.paid_through.isoformat()}"


async def _issue_one(
    uow: UnitOfWork, reminder: RenewalReminder, operator: Operator, catalog: Catalog
) -> int:
    key = renewal_key(reminder)
    seen = (await uow.session.scalars(select(Invoice.id).where(Invoice.auto_key == key))).first()
    if seen is not None:
        return 0
    row = await create_invoice(
        uow,
        reminder.account_id,
        InvoiceKind.PREPAY,
        operator=operator,
        catalog=catalog,
        months=1,
        locale=reminder.locale,
        auto_key=key,
    )
    account = await uow.session.get(Account, reminder.account_id)
    await enqueue(
        uow,
        account=account,
        event_key=f"{DOCUMENT}:{row.number}",
        kind=DOCUMENT,
        params=document(row),
        recipients=[Recipient(reminder.owner_telegram_id, reminder.locale)],
    )
    await uow.commit()
    return 1


async def issue_renewal_invoices(
    uows: UnitOfWorkFactory, *, operator: Operator, catalog: Catalog
) -> int:
    """For every account a renewal reminder is due to (the first one: 7 days before, by the
    catalog), an invoice for the next month, once per paid-through date; returns how many."""
    issued = 0
    async with uows() as uow:
        reminders = await due_renewal_reminders(uow, catalog)
        await uow.rollback()
        for reminder in reminders:
            try:
                issued += await _issue_one(uow, reminder, operator, catalog)
            except IntegrityError:  # another process issued it a moment ago
                await uow.rollback()
            except Exception:
                log.exception("renewal invoice failed for account %s", reminder.account_id)
                await uow.rollback()
    return issued
