"""Alerts from the scheduled jobs, sent through the Bot API stand-in on 127.0.0.1 that enforces
the limits: every message arrives exactly once, also after a sender dies half-way."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from bot.i18n import build_i18n
from bot.notifications.render import render, renderers
from bot.notifications.sender import LEASE
from core.notifications.models import OutboxStatus
from tests.support.alerts import msk, opt_in, outbox, tick
from tests.support.factories import join, new_account
from tests.support.journal import fund, order, set_up

SHOPS = 4


@pytest.fixture
def standin_limits() -> dict:
    return {"per_second": 40, "per_chat_per_second": 5}


async def shops_with_short_balances(uows, clock) -> None:
    """Four shops (owner + opted-in admin each) whose call tracking the balance can't renew."""
    for n in range(SHOPS):
        owner = await new_account(uows, owner_tg=1000 + n, name=f"Shop {n}")
        admin = await join(uows, owner, 2000 + n, "admin")
        await opt_in(uows, admin.member_id)
        await fund(uows, owner, 1_490_00 + 100_00)
        calls = (await order(uows, owner, "call_tracking")).service.id
        await set_up(uows, owner, calls)
    clock.set(msk(2026, 12, 19, 9))
    await tick(uows)  # a warning and a low-balance alert per shop, to two people each


async def expected(uows) -> Counter:
    """(chat, text) of every outbox row, rendered as the sender renders it."""
    i18n, table = build_i18n("ru"), renderers()
    wanted = Counter()
    for row in await outbox(uows):
        with i18n.context(), i18n.use_locale(row.locale):
            wanted[(row.chat_id, render(row.kind, row.params, table)[0])] += 1
    return wanted


async def test_alerts_arrive_exactly_once_within_the_limits(standin, make_sender, uows, clock):
    await shops_with_short_balances(uows, clock)
    clock.set(msk(2026, 12, 22, 9))
    await tick(uows)  # and a suspension notice each
    standin.script[1001] = ["429"]
    standin.script[2002] = ["502"]
    sender = make_sender(batch_size=50)
    await sender.drain()
    clock.advance(timedelta(seconds=2))
    await sender.drain()
    want = await expected(uows)
    # Three alerts to two people per shop, and each owner's morning digest (a Tuesday, 09:00).
    assert sum(want.values()) == SHOPS * 2 * 3 + SHOPS
    assert Counter(standin.delivered) == want
    assert standin.answered_429 == 1  # the scripted one: the sender never exceeded a limit
    assert {row.status for row in await outbox(uows)} == {OutboxStatus.SENT}
    assert await sender.drain() == 0


class Killed(BaseException):
    """The process dies between two messages."""


async def test_a_sender_killed_mid_batch_loses_and_repeats_nothing(
    standin, make_sender, uows, clock
):
    await shops_with_short_balances(uows, clock)
    dying = make_sender(batch_size=50)
    real_send, sent = dying.bot.send_message, []

    async def send_then_die(*args, **kwargs):
        if len(sent) >= 5:
            raise Killed
        sent.append(args[0])
        return await real_send(*args, **kwargs)

    dying.bot.send_message = send_then_die
    with pytest.raises(Killed):
        await dying.drain()
    current = asyncio.current_task()
    rest = [
        t
        for t in asyncio.all_tasks()
        if t is not current and t.get_coro().__qualname__ == "OutboxSender._deliver"
    ]
    await asyncio.gather(*rest, return_exceptions=True)  # the dead process's last breaths
    rows = await outbox(uows)
    assert Counter(r.status for r in rows) == {OutboxStatus.SENT: 5, OutboxStatus.PENDING: 11}
    assert len(standin.delivered) == 5

    restarted = make_sender(batch_size=50)
    assert await restarted.drain() == 0  # the dead sender's leases still hold
    clock.advance(LEASE + timedelta(seconds=1))
    assert await restarted.drain() == 11
    assert Counter(standin.delivered) == await expected(uows)
    assert {row.status for row in await outbox(uows)} == {OutboxStatus.SENT}
