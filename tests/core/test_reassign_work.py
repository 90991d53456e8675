"""Issue #21, reassignment without loose ends: tasks follow their order, /handover moves a
member's whole work in one step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.errors import InvalidInput
from core.members import service as members
from core.notifications.models import OutboxMessage
from core.orders import service as orders
from core.orders.handover import HANDED_OVER, hand_over_by_refs
from core.orders.models import Order
from core.tasks import service as tasks
from core.tasks.models import Task, TaskStatus
from tests.conftest import T0
from tests.support.factories import join, new_account
from tests.support.orders import add_order


@pytest.fixture
async def team(uows):
    owner = await new_account(uows)
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    account = owner.account_id
    ids = {n: await add_order(uows, account, n) for n in ("A", "B", "C", "D")}
    for number in ("A", "B", "C"):
        async with uows() as uow:
            await orders.claim_order(uow, petya, ids[number])
    async with uows() as uow:
        await orders.claim_order(uow, vasya, ids["D"])
    async with uows() as uow:
        await orders.change_status(uow, petya, ids["C"], "completed")
    return {"owner": owner, "petya": petya, "vasya": vasya, **ids}


async def add(uows, actor, order_id, text, due=None, assignee=None):
    async with uows() as uow:
        return await tasks.add_task(uow, actor, order_id, text, due, assignee)


async def holders(uows) -> dict[str, int]:
    async with uows() as uow:
        return {t.text: t.assignee_id for t in await uow.session.scalars(select(Task))}


async def outbox(uows, kind) -> list[OutboxMessage]:
    async with uows() as uow:
        return list(
            await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
        )


async def test_open_tasks_move_with_the_order_and_the_new_assignee_is_told(uows, team):
    petya, vasya, owner = team["petya"], team["vasya"], team["owner"]
    due = T0 + timedelta(days=1)
    await add(uows, petya, team["A"], "Позвонить", due)
    done = await add(uows, petya, team["A"], "Уже сделано")
    await add(uows, owner, team["A"], "Задача владельца")
    async with uows() as uow:
        await tasks.close_task(uow, petya, done.id)
    async with uows() as uow:
        await orders.assign_order(uow, owner, team["A"], vasya.member_id)
    held = await holders(uows)
    assert held["Позвонить"] == vasya.member_id
    assert held["Уже сделано"] == petya.member_id  # closed: history stays as it was
    assert held["Задача владельца"] == owner.member_id  # not the previous holder's
    told = await outbox(uows, "task_assigned")
    assert [(m.chat_id, m.params["text"]) for m in told] == [(3002, "Позвонить")]
    async with uows() as uow:
        task = (await uow.session.scalars(select(Task).where(Task.text == "Позвонить"))).one()
        assert task.remind_at == due  # the reminder now goes to vasya
        actions = list(
            await uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.subject_id == team["A"])
            )
        )
    assert "task.reassigned" in actions


async def test_handover_moves_open_orders_and_tasks_in_one_step(uows, team):
    petya, vasya, owner = team["petya"], team["vasya"], team["owner"]
    await add(uows, petya, team["A"], "Позвонить")
    await add(uows, petya, team["B"], "Отправить счёт")
    await add(uows, owner, team["D"], "На чужом заказе", assignee=petya.member_id)
    async with uows() as uow:
        await members.block_member(uow, owner, petya.member_id)
    async with uows() as uow:
        done = await hand_over_by_refs(uow, owner, "@petya", "@Vasya")
    assert done.orders == ["A", "B"] and done.tasks == 3
    async with uows() as uow:
        a = await orders.order_card(uow, owner, team["A"])
        c = await orders.order_card(uow, owner, team["C"])
    assert a.summary.assignee_id == vasya.member_id
    assert c.summary.assignee_id == petya.member_id  # completed: stays his
    assert set((await holders(uows)).values()) == {vasya.member_id}
    notices = await outbox(uows, HANDED_OVER)
    assert len(notices) == 1 and notices[0].chat_id == 3002
    assert notices[0].params["orders"] == ["A", "B"] and notices[0].params["tasks"] == 3
    # one notice, not one per task
    assert [m for m in await outbox(uows, "task_assigned") if m.chat_id == 3002] == []
    async with uows() as uow:
        entries = list(
            await uow.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "order.assigned", AuditEntry.reason == "handover"
                )
            )
        )
    assert sorted(e.subject_id for e in entries) == sorted([team["A"], team["B"]])
    async with uows() as uow:
        again = await hand_over_by_refs(uow, owner, "@petya", "@vasya")
    assert again.orders == [] and again.tasks == 0


async def test_handover_refuses_a_blocked_receiver_and_oneself(uows, team):
    owner = team["owner"]
    async with uows() as uow:
        await members.block_member(uow, owner, team["vasya"].member_id)
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await hand_over_by_refs(uow, owner, "@petya", "@vasya")
    assert err.value.code == "member_blocked"
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await hand_over_by_refs(uow, owner, "@petya", "@petya")
    assert err.value.code == "handover_same"
    async with uows() as uow:
        assert {t.status for t in await uow.session.scalars(select(Task))} <= {TaskStatus.OPEN}


async def test_cancelling_takes_a_reason_kept_on_the_order_and_in_its_log(uows, team):
    owner = team["owner"]
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await orders.change_status(uow, owner, team["A"], "cancelled")
    assert err.value.code == "cancel_reason_required"
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await orders.change_status(uow, owner, team["A"], "cancelled", "x" * 201)
    assert err.value.code == "cancel_reason_too_long"
    async with uows() as uow:
        await orders.change_status(uow, owner, team["A"], "cancelled", "  Клиент   уехал ")
    async with uows() as uow:
        order = await uow.session.get(Order, team["A"])
        assert (order.status, order.cancel_reason) == ("cancelled", "Клиент уехал")
        log = await orders.order_log(uow, owner, team["A"])
    assert log.rows[0].action == "order.status_changed" and log.rows[0].reason == "Клиент уехал"
