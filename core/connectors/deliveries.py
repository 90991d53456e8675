"""Applying stored deliveries: the durable half of a webhook. The drain leases due deliveries
(like the outbox: FOR UPDATE SKIP LOCKED on PostgreSQL, a compare-and-set lease everywhere), so
two processes never apply one delivery twice; each is applied in one transaction with its
order change. A failed Ecwid fetch is retried later from the stored row, with backoff, for a day.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, or_

from core.accounts.models import Account
from core.connectors import ecwid_api
from core.connectors.config import ConnectorConfig
from core.connectors.crypto import Unreadable
from core.connectors.kicker import worker_name
from core.connectors.models import Connector, ConnectorDelivery, DeliveryStatus
from core.connectors.platforms import platform
from core.connectors.platforms.base import Received
from core.connectors.service import context_for, describe
from core.db.sql import lease_due
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.errors import DomainError
from core.orders.models import OrderSource
from core.orders.sync import SyncOutcome, sync_order

log = logging.getLogger(__name__)

BATCH = 50
LEASE = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(hours=24)
EVERY = timedelta(seconds=30)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


async def claim_due(uow: UnitOfWork, owner: str, limit: int = BATCH) -> list[int]:
    now = uow.clock.now()
    t = ConnectorDelivery
    due = and_(
        t.status == DeliveryStatus.PENDING,
        t.not_before <= now,
        or_(t.lease_until.is_(None), t.lease_until < now),
    )
    mine = await lease_due(uow, t, t.id, due, owner=owner, until=now + LEASE, limit=limit)
    await uow.commit()
    return mine


async def _mine(uow: UnitOfWork, delivery_id: int, owner: str) -> ConnectorDelivery | None:
    row = await uow.session.get(ConnectorDelivery, delivery_id, populate_existing=True)
    if row is None or row.lease_owner != owner or row.status != DeliveryStatus.PENDING:
        return None
    return row


async def _fetched(
    uows: UnitOfWorkFactory, delivery_id: int, owner: str, config: ConnectorConfig
) -> dict | None:
    """The Ecwid order of a delivery (outside any transaction: the network is slow)."""
    async with uows() as uow:
        row = await _mine(uow, delivery_id, owner)
        if row is None:
            return None
        connector = await uow.session.get(Connector, row.connector_id)
        order_id = ecwid_api_order_id(row.payload)
        store_id = connector.store_id
        token = config.box.open(connector.store_token_sealed or "")
    return await ecwid_api.fetch_order(
        config.ecwid_api_base, store_id, token, order_id, timeout=config.fetch_timeout
    )


def ecwid_api_order_id(payload: dict) -> str:
    return str(payload.get("entityId"))[:64]


async def apply_one(
    uows: UnitOfWorkFactory, delivery_id: int, owner: str, config: ConnectorConfig
) -> str | None:
    """Applies one leased delivery; returns its outcome (None: not ours any more)."""
    data: dict | None = None
    async with uows() as uow:
        row = await _mine(uow, delivery_id, owner)
        if row is None:
            return None
        module = platform((await uow.session.get(Connector, row.connector_id)).platform)
        fetches = getattr(module, "FETCHES", False)
        event = row.event
    if fetches:
        if event.endswith(".deleted") or event not in module.EVENTS:
            return await _finish(uows, delivery_id, owner, outcome="ignored")
        try:
            data = await _fetched(uows, delivery_id, owner, config)
        except ecwid_api.FetchFailed as exc:
            return await _retry(uows, delivery_id, owner, str(exc))
        except (ecwid_api.FetchRefused, Unreadable) as exc:
            return await _fail(uows, delivery_id, owner, str(exc))
        if data is None:
            return None
    async with uows() as uow:
        row = await _mine(uow, delivery_id, owner)
        if row is None:
            return None
        connector = await uow.session.get(Connector, row.connector_id)
        account = await uow.session.get(Account, row.account_id)
        received = Received(row.event, row.payload, row.delivery_key, row.store_ref)
        try:
            ext = module.to_order(
                data if data is not None else row.payload,
                context_for(connector, received, account, config),
            )
            result = await sync_order(uow, row.account_id, ext, OrderSource(connector.platform))
        except DomainError as exc:
            await uow.rollback()
            return await _fail(uows, delivery_id, owner, describe(exc))
        now = uow.clock.now()
        row.status = DeliveryStatus.DONE
        row.outcome = result.outcome.value
        row.order_id = result.order.id
        row.attempts += 1
        row.processed_at = now
        row.lease_owner = row.lease_until = None
        if result.outcome == SyncOutcome.CREATED:
            connector.orders_count += 1
        await uow.commit()
        return result.outcome.value


async def _finish(uows, delivery_id: int, owner: str, *, outcome: str) -> str | None:
    async with uows() as uow:
        row = await _mine(uow, delivery_id, owner)
        if row is None:
            return None
        row.status, row.outcome = DeliveryStatus.DONE, outcome
        row.processed_at = uow.clock.now()
        row.lease_owner = row.lease_until = None
        await uow.commit()
        return outcome


async def _retry(uows, delivery_id: int, owner: str, error: str) -> str | None:
    async with uows() as uow:
        row = await _mine(uow, delivery_id, owner)
        if row is None:
            return None
        now = uow.clock.now()
        row.attempts += 1
        row.last_error = error[:500]
        row.lease_owner = row.lease_until = None
        if now - row.received_at >= GIVE_UP_AFTER:
            row.status, row.outcome = DeliveryStatus.FAILED, "failed"
        else:
            row.not_before = now + backoff(row.attempts)
        connector = await uow.session.get(Connector, row.connector_id)
        connector.last_error, connector.last_error_at = error[:500], now
        await uow.commit()
        log.warning("connector delivery %s: %s (attempt %s)", delivery_id, error, row.attempts)
        return "retry" if row.status == DeliveryStatus.PENDING else "failed"


async def _fail(uows, delivery_id: int, owner: str, error: str) -> str | None:
    async with uows() as uow:
        row = await _mine(uow, delivery_id, owner)
        if row is None:
            return None
        now = uow.clock.now()
        row.attempts += 1
        row.status, row.outcome = DeliveryStatus.FAILED, "failed"
        row.last_error = error[:500]
        row.processed_at = now
        row.lease_owner = row.lease_until = None
        connector = await uow.session.get(Connector, row.connector_id)
        connector.last_error, connector.last_error_at = error[:500], now
        await uow.commit()
        log.warning("connector delivery %s failed: %s", delivery_id, error)
        return "failed"


async def drain(uows: UnitOfWorkFactory, config: ConnectorConfig, owner: str | None = None) -> int:
    """Applies every due delivery; returns how many it applied (any outcome)."""
    owner = owner or worker_name()
    done = 0
    while True:
        async with uows() as uow:
            ids = await claim_due(uow, owner)
        if not ids:
            return done
        for delivery_id in ids:
            try:
                if await apply_one(uows, delivery_id, owner, config) is not None:
                    done += 1
            except Exception:  # one broken delivery must not stop the others
                log.exception("connector delivery %s could not be applied", delivery_id)
        if len(ids) < BATCH:
            return done
