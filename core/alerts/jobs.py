"""What the scheduled alert jobs run. They claim their work in the database, never in
APScheduler: under the account's money lock (FOR UPDATE SKIP LOCKED on PostgreSQL), written with
unique event keys — a repeat writes nothing. (The renewal job is `core.journal.renewals`.)
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from core.accounts.models import Account
from core.alerts.platform import enqueue_platform_reminders
from core.alerts.services import enqueue_service_alerts
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.journal.calendar import local_today
from core.journal.models import OPEN, ConnectedService
from core.ledger.service import try_lock_balance
from core.tariff.catalog import Catalog

log = logging.getLogger(__name__)


async def accounts_with_services(uow: UnitOfWork) -> list[int]:
    rows = await uow.session.scalars(
        select(ConnectedService.account_id)
        .where(ConnectedService.status.in_(OPEN))
        .distinct()
        .order_by(ConnectedService.account_id)
    )
    return list(rows)


async def alert_account(uow: UnitOfWork, account_id: int) -> int:
    """One account's service alerts in one transaction, unless another process holds it."""
    if await try_lock_balance(uow, account_id) is None:
        await uow.rollback()
        return 0
    account = await uow.session.get(Account, account_id)
    added = await enqueue_service_alerts(
        uow, account, local_today(uow.clock.now(), account.timezone)
    )
    await uow.commit()
    return added


async def run_service_alerts(uows: UnitOfWorkFactory) -> int:
    async with uows() as uow:
        account_ids = await accounts_with_services(uow)
        await uow.rollback()
        added = 0
        for account_id in account_ids:
            try:
                added += await alert_account(uow, account_id)
            except Exception:
                log.exception("alerts failed for account %s", account_id)
                await uow.rollback()
    return added


async def run_platform_reminders(uows: UnitOfWorkFactory, catalog: Catalog) -> int:
    async with uows() as uow:
        return await enqueue_platform_reminders(uow, catalog)
