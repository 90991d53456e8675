"""Building orders and many members quickly for order tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.accounts.models import Account
from core.db.uow import UnitOfWorkFactory
from core.members.access import actor_from
from core.members.actor import Actor
from core.members.models import Member, MemberStatus, Role
from core.orders.service import NewOrder, intake_order
from core.orders.views import OrderItem


def new_order(number: str, **kwargs) -> NewOrder:
    values = {
        "customer_name": "Иван Петров",
        "customer_phone": "+7 900 123-45-67",
        "customer_email": "ivan@example.com",
        "customer_address": "Москва, ул. Ленина, 1",
        "items": (OrderItem("Чайник", 2, 150_000),),
        "total": 300_000,
        "comment": "Позвонить до обеда",
        "external_id": f"ext-{number}",
    }
    values.update(kwargs)
    return NewOrder(number=number, **values)


async def add_order(uows: UnitOfWorkFactory, account_id: int, number: str, **kwargs) -> int:
    async with uows() as uow:
        result = await intake_order(uow, account_id, new_order(number, **kwargs))
    return result.order.id


async def many_managers(uows: UnitOfWorkFactory, account_id: int, count: int) -> list[Actor]:
    """`count` active managers inserted directly (the invite flow is tested elsewhere)."""
    async with uows() as uow:
        role = (
            await uow.session.scalars(
                select(Role).where(Role.account_id == account_id, Role.code == "manager")
            )
        ).one()
        account = await uow.session.get(Account, account_id)
        members = [
            Member(
                account_id=account_id,
                telegram_id=700_000 + i,
                username=f"racer{i}",
                full_name=f"Racer {i}",
                role_id=role.id,
                status=MemberStatus.ACTIVE,
                joined_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
            for i in range(count)
        ]
        uow.session.add_all(members)
        await uow.session.flush()
        for m in members:
            await uow.session.refresh(m, ["role"])
        actors = [actor_from(m, account) for m in members]
        await uow.commit()
    return actors
