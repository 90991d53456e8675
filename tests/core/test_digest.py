"""The digest job on SQLite and PostgreSQL: when it is due (a table of cases), once per member
per local day with two processes running it at once in small batches, and the owner's runway as
/balance works it out."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from core.accounts.models import Account
from core.digest import job
from core.digest.compose import due_day
from core.journal import billing
from core.members.models import Member
from core.notifications.models import OutboxMessage
from core.orders.models import Order, OrderStatus
from tests.support.alerts import tick
from tests.support.factories import join, new_account
from tests.support.journal import fund, order
from tests.support.orders import add_order


def _account(**values) -> Account:
    defaults = dict(
        timezone="Europe/Moscow", digest_hour=9, work_days="12345", work_start=9, work_end=18
    )
    return Account(**{**defaults, **values})


# Monday 23 November 2026; UTC moments.
CASES = [
    ("08:59 Moscow", _account(), datetime(2026, 11, 23, 5, 59, tzinfo=UTC), None),
    ("09:00 Moscow", _account(), datetime(2026, 11, 23, 6, 0, tzinfo=UTC), date(2026, 11, 23)),
    ("17:59 catch-up", _account(), datetime(2026, 11, 23, 14, 59, tzinfo=UTC), date(2026, 11, 23)),
    ("18:00 closed", _account(), datetime(2026, 11, 23, 15, 0, tzinfo=UTC), None),
    ("Sunday", _account(), datetime(2026, 11, 22, 6, 0, tzinfo=UTC), None),
    (
        "Sunday works",
        _account(work_days="1234567"),
        datetime(2026, 11, 22, 6, 0, tzinfo=UTC),
        date(2026, 11, 22),
    ),
    # 09:00 in Novosibirsk is still Sunday evening in UTC
    (
        "Novosibirsk",
        _account(timezone="Asia/Novosibirsk"),
        datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        date(2026, 11, 23),
    ),
    (
        "hour after closing",
        _account(digest_hour=20),
        datetime(2026, 11, 23, 17, 30, tzinfo=UTC),
        date(2026, 11, 23),
    ),
    ("no working days", _account(work_days=""), datetime(2026, 11, 23, 6, 0, tzinfo=UTC), None),
]


@pytest.mark.parametrize(("name", "account", "now", "want"), CASES, ids=[c[0] for c in CASES])
def test_when_the_digest_is_due(name, account, now, want):
    assert due_day(account, now) == want


async def test_two_processes_send_each_member_one_digest(uows, other, clock, monkeypatch):
    monkeypatch.setattr(job, "BATCH", 3)  # several batches, interleaved between the two
    monkeypatch.setattr(job, "ACCOUNTS", 1)  # and one account at a time
    members = []
    for tg in (1000, 1100):
        owner = await new_account(uows, owner_tg=tg, name=f"Shop {tg}")
        await add_order(uows, owner.account_id, f"N{tg}")  # waits to be claimed: news for all
        members += [owner.member_id]
        for n in range(1, 5):
            members.append((await join(uows, owner, tg + n)).member_id)
    clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    runs = await asyncio.gather(*(job.send_digests(u) for u in (uows, other, uows, other)))
    assert sum(runs) == len(members) == 10
    async with uows() as uow:
        rows = list(await uow.session.scalars(select(OutboxMessage)))
        sent_on = set(await uow.session.scalars(select(Member.digest_sent_on)))
    assert sorted(r.member_id for r in rows) == sorted(members)
    assert {r.event_key for r in rows} == {f"digest:{m}:2026-11-23" for m in members}
    assert sent_on == {date(2026, 11, 23)}
    assert await job.send_digests(other) == 0


async def test_workers_share_the_members_and_count_each_ones_own_figures(
    uows, engine, clock, monkeypatch
):
    """On PostgreSQL two transactions at once, each with half of the owed members, and each
    member's figures counted over the orders of its own batch's members only; SQLite one."""
    monkeypatch.setattr(job, "SHARE", 2)
    owner = await new_account(uows)
    managers = [(await join(uows, owner, 2000 + n)).member_id for n in range(3)]
    for n, manager in enumerate(managers, start=1):  # one, two and three open orders
        for k in range(n):
            mine = await add_order(uows, owner.account_id, f"M{n}-{k}")
            async with uows() as uow:
                await uow.session.execute(
                    update(Order)
                    .where(Order.id == mine)
                    .values(assignee_id=manager, status=OrderStatus.IN_PROGRESS)
                )
                await uow.commit()
    sizes = []
    send_batch = job._send_batch

    async def recorded(uow, accounts, today, tz, size):
        sizes.append(size)
        return await send_batch(uow, accounts, today, tz, size)

    monkeypatch.setattr(job, "_send_batch", recorded)
    clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert await job.send_digests(uows) == 3  # the owner has nothing to say
    async with uows() as uow:
        rows = {r.member_id: r.params for r in await uow.session.scalars(select(OutboxMessage))}
    assert {m: rows[m]["open"] for m in managers} == dict(zip(managers, (1, 2, 3), strict=True))
    assert {rows[m]["oldest_open"]["number"] for m in managers} == {"M1-0", "M2-0", "M3-0"}
    owed = 4  # three managers and the owner
    if engine.dialect.name == "postgresql":
        assert sizes[:2] == [owed // 2, owed // 2]
    else:
        assert sizes == [owed]


async def test_the_owners_runway_is_the_balances(uows, clock):
    owner = await new_account(uows)
    await fund(uows, owner, 790_00 + 500_00)
    await order(uows, owner, "chat_widget")  # renews monthly from the balance
    assert (await tick(uows))["digest"] == 0  # switches it on; Sunday: no digest
    async with uows() as uow:
        await uow.session.execute(update(Account).values(paid_through=date(2027, 1, 31)))
        await uow.commit()
    clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert await job.send_digests(uows) == 1
    async with uows() as uow:
        [row] = list(await uow.session.scalars(select(OutboxMessage)))
        view = await billing.balance_overview(uow, owner)
    part = row.params["owner"]
    assert part["balance"] == view.balance == 500_00
    assert part["renews"] is True
    assert part["short_on"] == view.runway.short_on.isoformat() and view.runway.short_on
    assert part["shortfall"] == view.runway.shortfall
    assert part["paid_through"] == "2027-01-31"


async def test_the_database_composes_what_the_renderer_reads(uows, clock):
    """The params the INSERT … SELECT builds, on both dialects: counts, and the oldest orders'
    numbers and moments as `datetime.fromisoformat` reads them back (aware, the same instant)."""
    owner = await new_account(uows)
    manager = await join(uows, owner, 2000)
    mine = await add_order(uows, owner.account_id, "M-1")
    await add_order(uows, owner.account_id, "W-1")  # waits to be claimed
    async with uows() as uow:
        await uow.session.execute(
            update(Order)
            .where(Order.id == mine)
            .values(assignee_id=manager.member_id, status=OrderStatus.IN_PROGRESS)
        )
        await uow.commit()
    clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert await job.send_digests(uows) == 2
    async with uows() as uow:
        rows = {r.member_id: r for r in await uow.session.scalars(select(OutboxMessage))}
        arrived = dict((await uow.session.execute(select(Order.number, Order.created_at))).all())
    p = rows[manager.member_id].params
    assert (p["open"], p["waiting"], p["day"], p["tz"]) == (1, 1, "2026-11-23", "Europe/Moscow")
    assert p["oldest_open"]["number"] == "M-1" and p["oldest_waiting"]["number"] == "W-1"
    since = datetime.fromisoformat(p["oldest_open"]["since"])
    assert since.tzinfo is not None and since == arrived["M-1"]
    assert datetime.fromisoformat(p["oldest_waiting"]["since"]) == arrived["W-1"]
    assert "owner" in rows[owner.member_id].params and p["owner"] is None


async def test_one_batch_holds_each_account_until_its_own_quiet_hours_end(uows, clock):
    """Two accounts of one zone in one statement: one in its quiet hours (its rows wait until
    they end), one not (its rows go now)."""
    quiet = await new_account(uows, owner_tg=3000, name="Quiet")
    loud = await new_account(uows, owner_tg=3100, name="Loud")
    for owner in (quiet, loud):
        await add_order(uows, owner.account_id, f"Q{owner.account_id}")
    async with uows() as uow:
        await uow.session.execute(
            update(Account).where(Account.id == quiet.account_id).values(quiet_end=10)
        )
        await uow.commit()
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
    clock.set(now)
    assert await job.send_digests(uows) == 2
    async with uows() as uow:
        rows = await uow.session.execute(select(OutboxMessage.account_id, OutboxMessage.not_before))
        held = {account: at for account, at in rows}
    assert held == {
        quiet.account_id: datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
        loud.account_id: now,
    }


async def test_a_member_marked_again_is_not_told_twice(uows, clock):
    """Were a member's mark lost (set back by hand), the outbox's unique (event key, chat)
    still refuses the day's second digest; the member is marked again."""
    owner = await new_account(uows)
    await add_order(uows, owner.account_id, "N-1")
    clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert await job.send_digests(uows) == 1
    async with uows() as uow:
        await uow.session.execute(update(Member).values(digest_sent_on=None))
        await uow.commit()
    assert await job.send_digests(uows) == 0
    async with uows() as uow:
        assert len(list(await uow.session.scalars(select(OutboxMessage)))) == 1
        assert set(await uow.session.scalars(select(Member.digest_sent_on))) == {date(2026, 11, 23)}
