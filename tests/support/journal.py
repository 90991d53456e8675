"""Builders for the services journal and the ledger, through the real core services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select, update

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.db.uow import UnitOfWorkFactory
from core.journal import billing, service
from core.journal.calendar import local_today
from core.journal.models import ConnectedService, PoolResource
from core.ledger.models import Balance, LedgerEntry
from core.members.actor import Actor
from tests.support.factories import actor_for, new_account

_keys = itertools.count(1)


async def fund(uows: UnitOfWorkFactory, owner: Actor, kopecks: int, reference: str | None = None):
    async with uows() as uow:
        return await billing.top_up(uow, owner, kopecks, reference or f"REF-{next(_keys)}")


async def order(uows: UnitOfWorkFactory, actor: Actor, code: str, key: str | None = None):
    async with uows() as uow:
        return await service.order_service(uow, actor, code, key or f"req-{next(_keys)}")


async def set_up(uows: UnitOfWorkFactory, actor: Actor, service_id: int):
    async with uows() as uow:
        return await service.mark_set_up(uow, actor, service_id)


async def set_timezone(uows: UnitOfWorkFactory, actor: Actor, timezone: str) -> Actor:
    async with uows() as uow:
        await uow.session.execute(
            update(Account).where(Account.id == actor.account_id).values(timezone=timezone)
        )
        await uow.commit()
    return await actor_for(uows, actor.telegram_id)


async def load(uows: UnitOfWorkFactory, service_id: int) -> ConnectedService:
    async with uows() as uow:
        return await uow.session.get(ConnectedService, service_id)


async def numbers(uows: UnitOfWorkFactory, service_id: int) -> list[str]:
    async with uows() as uow:
        rows = await uow.session.scalars(
            select(PoolResource.value)
            .where(PoolResource.service_id == service_id)
            .order_by(PoolResource.id)
        )
        return list(rows)


async def money(uows: UnitOfWorkFactory, account_id: int) -> tuple[int, int]:
    """(cached balance, sum of the ledger): the two must always agree."""
    async with uows() as uow:
        cached = await uow.session.scalar(
            select(Balance.amount).where(Balance.account_id == account_id)
        )
        total = await uow.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == account_id
            )
        )
    return cached or 0, int(total)


async def entries(uows: UnitOfWorkFactory, account_id: int) -> list[tuple[str, int, str]]:
    async with uows() as uow:
        rows = await uow.session.execute(
            select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.idempotency_key)
            .where(LedgerEntry.account_id == account_id)
            .order_by(LedgerEntry.id)
        )
        return [tuple(r) for r in rows]


async def service_actions(uows: UnitOfWorkFactory, service_id: int) -> list[str]:
    async with uows() as uow:
        rows = await uow.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject_type == "service", AuditEntry.subject_id == service_id)
            .order_by(AuditEntry.id)
        )
        return list(rows)


@dataclass
class DueShops:
    can_pay: dict[int, bool] = field(default_factory=dict)  # service id → its shop can pay
    paying: list[int] = field(default_factory=list)  # accounts that can pay
    owners: set[int] = field(default_factory=set)  # owners' Telegram ids
    ended: date = date.min  # the day every service ended


async def shops_due_today(
    uows: UnitOfWorkFactory, shops: int, services: int, price: int = 79_000
) -> DueShops:
    """Shops of chat widgets (`price` a month) that all ended yesterday, quiet hours off; every
    other shop can pay for the next month of each, the rest for none."""
    due = DueShops()
    for index in range(shops):
        owner = await new_account(uows, owner_tg=50_000 + index, name=f"Shop {index}")
        due.owners.add(owner.telegram_id)
        await fund(uows, owner, price * services * (2 if index % 2 else 1))
        if index % 2:
            due.paying.append(owner.account_id)
        for _ in range(services):
            outcome = await order(uows, owner, "chat_widget")
            due.can_pay[outcome.service.id] = bool(index % 2)
    due.ended = local_today(uows.clock.now(), "Europe/Moscow") - timedelta(days=1)
    async with uows() as uow:
        await uow.session.execute(update(Account).values(quiet_hours=False))
        await uow.session.execute(
            update(ConnectedService).values(
                status="active",
                started_on=due.ended - timedelta(days=30),
                ends_on=due.ended,
                anchor_day=due.ended.day,
            )
        )
        await uow.commit()
    return due
