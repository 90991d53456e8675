"""Order announcements and their edits through the outbox and real senders, against the Bot API
stand-in on 127.0.0.1: each edit reaches Telegram once, on the message the announcement became,
however claims race and senders overlap, and even when it was queued before that message."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.notifications.limits import Limits
from core.notifications.models import DeliveryAttempt, OutboxMessage, OutboxStatus
from core.orders.announce import set_order_notifications
from core.orders.models import Order
from core.orders.notices import ANNOUNCEMENT_EDIT, announcement_key
from core.orders.service import claim_order
from tests.support.factories import join, new_account
from tests.support.orders import add_order

FAST = Limits(per_second=1000, per_chat_per_second=1000)
PETYA, VASYA = 3001, 3002


@pytest.fixture
def sender_limits() -> Limits:
    return FAST


@pytest.fixture
async def shop(uows):
    """Petya and vasya hear of new orders."""
    owner = await new_account(uows)
    members = [await join(uows, owner, tg, username=f"m{tg}") for tg in (PETYA, VASYA)]
    for member in members:
        async with uows() as uow:
            await set_order_notifications(uow, member, True)
    return owner, members


def announced(standin, number: str) -> dict[int, int]:
    """chat → the message id of the order's announcement there (accepted sends only)."""
    return {
        int(c.params["chat_id"]): c.result["message_id"]
        for c in standin.calls_of("sendMessage")
        if f"Новый заказ №{number}" in c.params["text"] and c.result is not None
    }


def edits(standin) -> list[tuple[int, int, str]]:
    return [
        (int(c.params["chat_id"]), int(c.params["message_id"]), c.params["text"])
        for c in standin.calls_of("editMessageText")
    ]


async def claim(uows, actor, order_id):
    async with uows() as uow:
        return await claim_order(uow, actor, order_id)


async def test_racing_claims_and_overlapping_senders_edit_each_announcement_once(
    standin, make_sender, uows, shop
):
    owner, members = shop
    order_id = await add_order(uows, owner.account_id, "R1")
    assert await make_sender().drain() == 2
    messages = announced(standin, "R1")
    assert set(messages) == {PETYA, VASYA}

    outcomes = await asyncio.gather(*(claim(uows, m, order_id) for m in members * 3))
    [winner] = [o for o in outcomes if o.won]
    first, second = make_sender(), make_sender()
    claimed = await asyncio.gather(first.drain(), second.drain())
    assert sum(claimed) == 2  # one edit per announcement, however many claims and senders
    assert await make_sender().drain() == 0
    assert sorted((chat, message) for chat, message, _ in edits(standin)) == sorted(
        messages.items()
    )
    assert all(f"взял {winner.holder}" in text for _, _, text in edits(standin))
    async with uows() as uow:
        rows = list(
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == ANNOUNCEMENT_EDIT)
            )
        )
    assert [(r.status, r.edit_of) for r in rows] == [
        (OutboxStatus.SENT, announcement_key(order_id))
    ] * 2


async def test_an_edit_queued_before_its_announcement_follows_it(
    standin, make_sender, uows, shop, clock
):
    owner, (petya, _vasya) = shop
    order_id = await add_order(uows, owner.account_id, "E1")
    await claim(uows, petya, order_id)  # the announcements have not gone out yet
    # Both in one batch: each edit waits for its announcement's send, then edits that message.
    assert await make_sender().drain() == 4
    messages = announced(standin, "E1")
    assert sorted((c, m) for c, m, _ in edits(standin)) == sorted(messages.items())

    # Telegram holds vasya's announcement back (429): the edit waits for it, not edits nothing.
    other = await add_order(uows, owner.account_id, "E2")
    standin.script[VASYA] = ["429"]
    assert await make_sender().drain() == 2
    await claim(uows, petya, other)
    assert await make_sender().drain() == 2
    later = [(c, text) for c, _, text in edits(standin) if "№E2" in text]
    assert later == [(PETYA, later[0][1])]
    async with uows() as uow:
        waiting = (
            await uow.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.edit_of == announcement_key(other),
                    OutboxMessage.chat_id == VASYA,
                )
            )
        ).one()
    assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 1)
    clock.advance(timedelta(seconds=standin.retry_after))
    await make_sender().drain()  # the announcement goes out; its edit is due a moment later
    clock.advance(timedelta(minutes=1))
    await make_sender().drain()
    assert [(c, m) for c, m, text in edits(standin) if "№E2" in text] == [
        (PETYA, announced(standin, "E2")[PETYA]),
        (VASYA, announced(standin, "E2")[VASYA]),
    ]
    async with uows() as uow:
        outcomes = Counter(
            await uow.session.scalars(
                select(DeliveryAttempt.outcome).where(DeliveryAttempt.outbox_id == waiting.id)
            )
        )
    assert outcomes == Counter({"waiting": 1, "sent": 1})


async def test_an_edit_of_an_announcement_that_never_arrived_is_skipped(
    standin, make_sender, uows, shop
):
    owner, (petya, _vasya) = shop
    order_id = await add_order(uows, owner.account_id, "B1")
    standin.script[VASYA] = ["403"]  # vasya blocked the bot
    await make_sender().drain()
    await claim(uows, petya, order_id)
    await make_sender().drain()
    assert [c for c, _, _ in edits(standin)] == [PETYA]
    async with uows() as uow:
        statuses = dict(
            (
                await uow.session.execute(
                    select(OutboxMessage.chat_id, OutboxMessage.status).where(
                        OutboxMessage.kind == ANNOUNCEMENT_EDIT
                    )
                )
            ).all()
        )
        order = await uow.session.get(Order, order_id)
    assert statuses == {PETYA: OutboxStatus.SENT, VASYA: OutboxStatus.SKIPPED}
    assert order.assignee_id == petya.member_id  # the claim stays, whoever cannot be told
