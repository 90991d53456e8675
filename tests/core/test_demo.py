"""The demo data: every state the product shows, the same every time, created once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.demo import ORDER_COUNT, ensure_demo
from core.journal.models import ConnectedService, ServiceStatus
from core.ledger.service import balance_of
from core.orders.models import Order, OrderStatus
from core.orders.service import CANCEL_REASONS
from core.tasks.models import Task, TaskStatus
from tests.conftest import T0


async def _snapshot(uows, account_id):
    async with uows() as uow:
        s = uow.session
        orders = (
            await s.execute(
                select(
                    Order.number,
                    Order.status,
                    Order.assignee_id,
                    Order.created_at,
                    Order.total,
                    Order.claimed_at,
                    Order.cancel_reason,
                    Order.customer_name,
                )
                .where(Order.account_id == account_id)
                .order_by(Order.number)
            )
        ).all()
        tasks = (
            await s.execute(select(Task.text, Task.status, Task.due_at).order_by(Task.id))
        ).all()
        services = (
            await s.execute(
                select(ConnectedService.catalog_code, ConnectedService.status).order_by(
                    ConnectedService.id
                )
            )
        ).all()
        audit = await s.scalar(select(func.count()).select_from(AuditEntry))
        balance = await balance_of(uow, account_id)
    return orders, tasks, services, audit, balance


async def test_demo_holds_orders_tasks_and_services_in_every_state(uows):
    demo = await ensure_demo(uows)
    orders, tasks, services, _, balance = await _snapshot(uows, demo.account_id)

    assert len(orders) == ORDER_COUNT
    assert {o.status for o in orders} == set(OrderStatus)
    assert all(T0 - timedelta(days=60) <= o.created_at < T0 for o in orders)
    unassigned = [o for o in orders if o.assignee_id is None]
    assert any(o.status == OrderStatus.NEW for o in unassigned)
    assert all(o.status != OrderStatus.IN_PROGRESS for o in unassigned)
    # every cancelled order says why (the report counts them per reason)
    cancelled = [o for o in orders if o.status == OrderStatus.CANCELLED]
    assert cancelled and all(o.cancel_reason in CANCEL_REASONS for o in cancelled)
    assert len({o.cancel_reason for o in cancelled}) > 1
    assert not any(
        o.customer_name.startswith("Анна ") and o.customer_name[-1] != "а" for o in orders
    )
    managers = {demo.actors[f"manager{i}"].member_id for i in (1, 2, 3)}
    assert {o.assignee_id for o in orders} - {None} == managers
    # Every order in work says when it was taken, minutes after it came in.
    assert all(
        o.created_at < o.claimed_at <= o.created_at + timedelta(minutes=40)
        for o in orders
        if o.assignee_id is not None
    )
    async with uows() as uow:
        completed = (
            await uow.session.execute(
                select(Order.created_at, Order.completed_at).where(
                    Order.status == OrderStatus.COMPLETED
                )
            )
        ).all()
        # Every order's log starts with its intake, at the time it came in.
        created = await uow.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "order.created", AuditEntry.created_at < T0
            )
        )
    assert len(completed) > 50
    assert all(c.created_at < c.completed_at <= T0 for c in completed)
    assert created == ORDER_COUNT

    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    assert any(t.due_at < T0 for t in open_tasks)  # overdue
    assert any(t.due_at > T0 for t in open_tasks)
    assert any(t.status == TaskStatus.DONE for t in tasks)

    statuses = {s.status for s in services}
    assert statuses >= {
        ServiceStatus.ACTIVE,
        ServiceStatus.NEEDS_SETUP,
        ServiceStatus.SUSPENDED,
        ServiceStatus.DISCONNECTED,
        ServiceStatus.CLOSED,
    }
    # The chat widget renews tomorrow and 720 ₽ does not cover its 790 ₽.
    assert balance == 720_00
    async with uows() as uow:
        chat = (
            await uow.session.scalars(
                select(ConnectedService).where(ConnectedService.catalog_code == "chat_widget")
            )
        ).one()
    assert chat.status == ServiceStatus.ACTIVE
    assert chat.ends_on == (T0 + timedelta(days=1)).date()


async def test_a_second_run_changes_nothing(uows, clock):
    demo = await ensure_demo(uows)
    first = await _snapshot(uows, demo.account_id)
    clock.advance(timedelta(hours=3))
    again = await ensure_demo(uows)
    assert not again.created
    assert await _snapshot(uows, demo.account_id) == first


async def test_the_demo_ledger_is_spread_over_its_60_days_in_time_order(uows):
    from core.ledger.models import LedgerEntry

    demo = await ensure_demo(uows)
    async with uows() as uow:
        entries = list(
            await uow.session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.account_id == demo.account_id)
                .order_by(LedgerEntry.id)
            )
        )
    times = [e.created_at for e in entries]
    assert times == sorted(times)  # the ledger reads in the order things happened
    assert len({t.date() for t in times}) == len(times)  # each on its own day
    assert T0 - timedelta(days=60) <= times[0] and times[-1] < T0
    assert times[-1] - times[0] > timedelta(days=45)
