"""Scheduled jobs and alerts on a controllable clock: timing, once-only, catch-up, crashes and two
processes at once (every test runs on SQLite and, with TEST_POSTGRES_URL, on PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.accounts.models import Account
from core.alerts import preferences
from core.audit.models import AuditEntry
from core.errors import InvalidInput, PermissionDenied
from core.journal import service
from core.journal.books import Batch
from core.journal.models import ConnectedService
from core.members.models import Member
from core.notifications import outbox as outbox_service
from tests.support.alerts import events, msk, opt_in, outbox, set_account, tick
from tests.support.factories import actor_for, join, new_account
from tests.support.journal import entries, fund, load, money, order, set_up

LEASE = timedelta(minutes=5)


async def call_tracking(uows, owner, balance_after: int) -> int:
    """Call tracking set up today (22 Nov, Moscow): it ends on 22 Dec."""
    await fund(uows, owner, 1_490_00 + balance_after)
    ordered = await order(uows, owner, "call_tracking")
    await set_up(uows, owner, ordered.service.id)
    return ordered.service.id


async def renewal_keys(uows, account_id: int) -> list[str]:
    return [key for kind, _, key in await entries(uows, account_id) if key.startswith("renew:")]


async def test_renewal_warnings_come_3_and_1_days_before_once_each(uows, clock):
    owner = await new_account(uows)
    sid = await call_tracking(uows, owner, balance_after=2_000_00)
    clock.set(msk(2026, 12, 18, 23, 59))
    await tick(uows)
    assert await outbox(uows, "service.warning") == []
    clock.set(msk(2026, 12, 19, 0, 0))  # three days before 22 Dec, at local midnight
    await tick(uows)
    await tick(uows)
    (first,) = await outbox(uows, "service.warning")
    assert first.chat_id == 1000
    assert first.event_key == f"service.warning:{sid}:2026-12-22:3"
    assert first.params == {
        "service_id": sid,
        "code": "call_tracking",
        "ends_on": "2026-12-22",
        "days_left": 3,
        "price": 1_490_00,
        "auto_renew": True,
        "balance": 2_000_00,
        "shortfall": 0,
        "week": 0,
        "week_days": 7,
        "as_of": "00:00",  # held by quiet hours: the balance is of this time
    }
    assert first.not_before == msk(2026, 12, 19, 8, 0)  # quiet hours: held until 08:00
    clock.set(msk(2026, 12, 20, 12))
    await tick(uows)
    assert len(await outbox(uows, "service.warning")) == 1
    clock.set(msk(2026, 12, 21, 0, 0))
    await tick(uows)
    clock.set(msk(2026, 12, 22, 0, 0))  # the renewal itself: charged, no further warning
    await tick(uows)
    warnings = await outbox(uows, "service.warning")
    assert [(w.params["days_left"], w.event_key[-2:]) for w in warnings] == [(3, ":3"), (1, ":1")]
    assert await renewal_keys(uows, owner.account_id) == [f"renew:{sid}:2026-12-22"]
    assert await events(uows) == [("service.warning", 1000)] * 2


async def test_short_balance_story_alerts_each_event_once(uows, clock):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin")
    await join(uows, owner, 3001)  # a manager gets no alerts
    await opt_in(uows, admin.member_id)
    await fund(uows, owner, 1_490_00 + 790_00 + 500_00)
    calls = (await order(uows, owner, "call_tracking")).service.id
    await set_up(uows, owner, calls)
    chat = (await order(uows, owner, "chat_widget")).service.id
    await tick(uows)  # the chat widget is switched on today: both end on 22 Dec
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, chat, False)
    assert await events(uows) == []

    clock.set(msk(2026, 12, 19, 9))
    await tick(uows)
    both = [1000, 2000]
    expected = [("service.warning", c) for c in both] * 2 + [("balance.low", c) for c in both]
    assert await events(uows) == expected
    short, off = (await outbox(uows, "service.warning"))[::2]
    assert (short.params["service_id"], short.params["shortfall"]) == (calls, 990_00)
    assert (off.params["service_id"], off.params["auto_renew"]) == (chat, False)
    low = (await outbox(uows, "balance.low"))[0].params
    assert low == {
        "keep": 990_00,
        "keep_code": "call_tracking",
        "keep_on": "2026-12-22",
        "balance": 500_00,
        "due": 1_490_00,
        "shortfall": 990_00,
        "days": 7,
        "short_on": "2026-12-22",
        "covered_until": "2026-12-21",
        "at_risk": [
            {
                "service_id": calls,
                "code": "call_tracking",
                "on": "2026-12-22",
                "price": 1_490_00,
                "overdue": False,
            }
        ],
        "more": 0,
    }

    clock.set(msk(2026, 12, 22, 0, 0))  # the end date: suspended and disconnected
    await tick(uows)
    await tick(uows)
    expected += [("service.suspended", c) for c in both]
    expected += [("service.disconnected", c) for c in both]
    assert await events(uows) == expected  # the low balance is the same state: not repeated
    suspended = (await outbox(uows, "service.suspended"))[0]
    assert suspended.params == {
        "service_id": calls,
        "code": "call_tracking",
        "charged": 0,
        "balance": 500_00,
        "lapsed_on": "2026-12-22",
        "return_by": "2027-01-04",
        "price": 1_490_00,
    }
    assert suspended.not_before == msk(2026, 12, 22, 8, 0)

    clock.set(msk(2026, 12, 23, 10))
    topped = await fund(uows, owner, 1_000_00)  # the owner is answered directly
    assert [t.action for t in topped.transitions] == ["service.resumed"]
    expected.append(("service.resumed", 2000))
    assert await events(uows) == expected
    resumed = (await outbox(uows, "service.resumed"))[0].params
    assert (resumed["charged"], resumed["ends_on"], resumed["balance"]) == (
        1_490_00,
        "2027-01-23",
        10_00,
    )

    clock.set(msk(2027, 1, 1, 12))
    await tick(uows)
    assert await events(uows) == expected
    clock.set(msk(2027, 1, 2, 12))  # the chat widget's return window closes in 3 days
    await tick(uows)
    await tick(uows)
    expected += [("service.return_closing", c) for c in both]
    closing = (await outbox(uows, "service.return_closing"))[0].params
    assert (closing["days_left"], closing["return_by"], closing["status"]) == (
        3,
        "2027-01-04",
        "disconnected",
    )
    clock.set(msk(2027, 1, 5, 0, 0))
    await tick(uows)
    await tick(uows)
    expected += [("service.closed", c) for c in both]
    assert await events(uows) == expected
    assert (await load(uows, chat)).status == "closed"


async def test_low_balance_is_sent_once_per_shortage(uows, clock):
    owner = await new_account(uows)
    await call_tracking(uows, owner, balance_after=790_00 + 1_500_00)
    clock.set(msk(2026, 11, 25, 12))
    chat = (await order(uows, owner, "chat_widget")).service.id
    await tick(uows)  # switched on: ends on 25 Dec; the balance is 1 500 ₽
    clock.set(msk(2026, 12, 15, 12))
    await tick(uows)
    assert await outbox(uows, "balance.low") == []  # 22 Dec alone (1 490 ₽) is covered
    clock.set(msk(2026, 12, 18, 12))  # 25 Dec enters the 7 days: 2 280 ₽ are due
    await tick(uows)
    clock.set(msk(2026, 12, 19, 12))
    await tick(uows)
    (first,) = await outbox(uows, "balance.low")
    assert first.event_key == f"balance.low:{owner.account_id}:1"
    assert (first.params["shortfall"], first.params["covered_until"]) == (780_00, "2026-12-24")
    assert (first.params["keep"], first.params["keep_code"]) == (780_00, "chat_widget")
    assert [r["service_id"] for r in first.params["at_risk"]] == [chat]

    await order(uows, owner, "callback_widget")  # 590 ₽ more: still the same shortage
    await tick(uows)
    await tick(uows)
    assert len(await outbox(uows, "balance.low")) == 1

    await fund(uows, owner, 2_000_00)  # covered: the shortage is over
    await tick(uows)
    assert len(await outbox(uows, "balance.low")) == 1
    # A new order takes the money again, on the same date: a new shortage, told again.
    await order(uows, owner, "email_tracking")
    await tick(uows)
    await tick(uows)
    lows = await outbox(uows, "balance.low")
    assert [low.event_key[-2:] for low in lows] == [":1", ":2"]
    assert [low.params["short_on"] for low in lows] == ["2026-12-25", "2026-12-25"]
    assert chat in [r["service_id"] for r in lows[1].params["at_risk"]]


async def test_renewal_warning_says_what_keeps_the_service_and_what_covers_the_week(uows, clock):
    """A suspended service does not take the money a renewal needs: 70 ₽ keep the chat."""
    owner = await new_account(uows)
    await fund(uows, owner, 3_000_00 + 790_00 + 720_00)
    analytics = (await order(uows, owner, "analytics_export")).service.id
    chat = (await order(uows, owner, "chat_widget")).service.id
    await set_up(uows, owner, analytics)
    await tick(uows)
    clock.set(msk(2026, 12, 21, 9))  # the chat renews tomorrow, 22 Dec
    async with uows() as uow:  # the analytics export lapsed unpaid yesterday
        row = await uow.session.get(ConnectedService, analytics)
        row.status, row.lapsed_on = "suspended", date(2026, 12, 20)
        await uow.commit()
    await tick(uows)
    (warning,) = [
        w for w in await outbox(uows, "service.warning") if w.params["service_id"] == chat
    ]
    assert warning.params["balance"] == 720_00
    assert warning.params["shortfall"] == 70_00  # keeps the chat
    assert warning.params["week"] == 3_000_00 + 790_00 - 720_00  # every renewal of the week


async def test_three_days_down_replays_each_missed_day_once(uows, clock):
    owner = await new_account(uows)
    calls = await call_tracking(uows, owner, balance_after=790_00 + 1_000_00)
    clock.set(msk(2026, 11, 23, 12))
    chat = (await order(uows, owner, "chat_widget")).service.id
    await tick(uows)  # ends on 23 Dec
    clock.set(msk(2026, 12, 20, 12))
    await tick(uows)  # the last run before the downtime: both 3-day warnings, and 22 Dec is short
    before = [("service.warning", 1000)] * 2 + [("balance.low", 1000)]
    assert await events(uows) == before
    clock.set(msk(2026, 12, 23, 12))  # back after three days
    done = await tick(uows)
    assert done["renewals"] == 2
    suspended, renewed = await load(uows, calls), await load(uows, chat)
    assert (suspended.status, suspended.lapsed_on) == ("suspended", date(2026, 12, 22))
    assert (renewed.started_on, renewed.ends_on) == (date(2026, 12, 23), date(2027, 1, 23))
    assert await renewal_keys(uows, owner.account_id) == [f"renew:{chat}:2026-12-23"]
    # The 1-day warnings of the missed days are stale now: only what is still true is sent.
    assert await events(uows) == [*before, ("service.suspended", 1000)]
    assert await tick(uows) == {
        "renewals": 0,
        "service_alerts": 0,
        "platform_reminders": 0,
        "renewal_invoices": 0,
        "task_reminders": 0,
        "claim_timers": 0,
        "shift_auto_off": 0,
        "digest": 0,  # the owner's came with the first run of the day
        "retention": 0,  # the messages are still pending (no sender here): nothing is old
        "connector_deliveries": 0,
        "status_webhooks": 0,
    }
    assert await money(uows, owner.account_id) == (210_00, 210_00)


async def test_a_long_downtime_charges_the_renewals_in_day_order(uows, clock):
    owner = await new_account(uows)
    await fund(uows, owner, 790_00 + 1_490_00 + 2_280_00)
    chat = (await order(uows, owner, "chat_widget")).service.id
    await tick(uows)  # 22 Nov → 22 Dec
    clock.set(msk(2026, 12, 10, 12))
    calls = (await order(uows, owner, "call_tracking")).service.id
    await set_up(uows, owner, calls)  # 10 Dec → 10 Jan; the balance is 2 280 ₽
    clock.set(msk(2027, 1, 23, 12))  # nothing ran for six weeks
    await tick(uows)
    # Day by day: chat on 22 Dec, calls on 10 Jan, then chat on 22 Jan finds the balance empty
    # (renewing each service through all its periods first would have starved the calls).
    assert await renewal_keys(uows, owner.account_id) == [
        f"renew:{chat}:2026-12-22",
        f"renew:{calls}:2027-01-10",
    ]
    assert (await load(uows, chat)).lapsed_on == date(2027, 1, 22)
    assert (await load(uows, calls)).ends_on == date(2027, 2, 10)
    assert await money(uows, owner.account_id) == (0, 0)


class Killed(BaseException):
    """The process dies: nothing catches it, nothing after it runs."""


async def three_shops(uows) -> list:
    """Three accounts whose chat widget (renewed) and call tracking (suspended) end on 22 Dec."""
    owners = []
    for tg in (1000, 1001, 1002):
        owner = await new_account(uows, owner_tg=tg, name=f"Shop {tg}")
        await fund(uows, owner, 790_00 + 1_490_00 + 1_000_00)
        await order(uows, owner, "chat_widget")
        calls = (await order(uows, owner, "call_tracking")).service.id
        await set_up(uows, owner, calls)
        owners.append(owner)
    await tick(uows)
    return owners


async def assert_each_shop_done_once(uows, owners) -> None:
    for owner in owners:
        keys = await renewal_keys(uows, owner.account_id)
        assert len(keys) == 1 and keys[0].endswith(":2026-12-22")
        assert await money(uows, owner.account_id) == (210_00, 210_00)
    rows = await outbox(uows, "service.suspended")
    assert sorted(r.chat_id for r in rows) == [1000, 1001, 1002]


async def test_a_crash_in_the_middle_of_a_renewal_batch_loses_and_repeats_nothing(
    uows, clock, monkeypatch
):
    owners = await three_shops(uows)
    clock.set(msk(2026, 12, 22, 1))
    real_flush = Batch.flush

    async def dying_flush(batch):
        # The second account: its renewals and suspension are written, not yet committed.
        if batch.account_id != owners[0].account_id:
            raise Killed
        return await real_flush(batch)

    monkeypatch.setattr(Batch, "flush", dying_flush)
    with pytest.raises(Killed):
        await tick(uows)
    monkeypatch.setattr(Batch, "flush", real_flush)
    first = owners[0].account_id
    assert len(await renewal_keys(uows, first)) == 1
    assert await renewal_keys(uows, owners[1].account_id) == []
    assert [r.chat_id for r in await outbox(uows, "service.suspended")] == [1000]
    await tick(uows)  # the restarted process
    await tick(uows)
    await assert_each_shop_done_once(uows, owners)


async def test_two_processes_at_once_charge_and_alert_as_one(uows, clock, other):
    owners = await three_shops(uows)
    clock.set(msk(2026, 12, 19, 12))
    await asyncio.gather(tick(uows), tick(other), tick(uows), tick(other))
    warnings = await outbox(uows, "service.warning")
    assert sorted(w.chat_id for w in warnings) == [1000, 1000, 1001, 1001, 1002, 1002]
    clock.set(msk(2026, 12, 22, 9))
    await asyncio.gather(tick(uows), tick(other), tick(other))
    await assert_each_shop_done_once(uows, owners)
    assert len(await outbox(uows, "balance.low")) == 3


async def test_platform_reminders_7_3_1_days_before_to_the_owner_only(uows, clock):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin")
    await opt_in(uows, admin.member_id)
    await set_account(uows, owner.account_id, paid_through=date(2026, 11, 29))
    for day in range(22, 31):
        clock.set(msk(2026, 11, day, 12))
        await tick(uows)
        await tick(uows)
    reminders = await outbox(uows, "tariff.reminder")
    assert [(r.chat_id, r.params["days_before"], r.created_at.day) for r in reminders] == [
        (1000, 7, 22),
        (1000, 3, 26),
        (1000, 1, 28),
    ]
    invoice = reminders[0].params["invoice"]
    assert reminders[0].params["paid_through"] == "2026-11-29"
    assert reminders[0].params["periods"] == [1, 3, 6, 12]
    assert invoice["tariff"]["code"] == "standard"
    assert sum(line["amount"] for line in invoice["lines"]) == 3_000_00


async def test_admins_opt_in_and_out_with_an_audit_entry(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin")
    manager = await join(uows, owner, 3001)
    async with uows() as uow:
        view = await preferences.set_alerts(uow, admin, True)
    assert (view.receives, view.is_owner, view.quiet_hours) == (True, False, True)
    async with uows() as uow:
        account = await uow.session.get(Account, owner.account_id)
        chats = [r.chat_id for r in await outbox_service.alert_recipients(uow, account)]
    assert sorted(chats) == [1000, 2000]
    async with uows() as uow:
        await preferences.set_alerts(uow, admin, False)
    async with uows() as uow:
        actions = list(
            await uow.session.scalars(
                select(AuditEntry.after).where(AuditEntry.action == "member.alerts_changed")
            )
        )
    assert actions == [{"alerts": True}, {"alerts": False}]
    with pytest.raises(InvalidInput) as refused:
        async with uows() as uow:
            await preferences.set_alerts(uow, owner, False)
    assert refused.value.code == "owner_always_alerted"
    with pytest.raises(PermissionDenied):
        async with uows() as uow:
            await preferences.set_alerts(uow, manager, True)


async def test_quiet_hours_hold_night_alerts_and_the_owner_can_turn_them_off(uows, clock):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin")
    await call_tracking(uows, owner, balance_after=0)
    clock.set(msk(2026, 12, 19, 0, 30))
    await tick(uows)
    held = await outbox(uows)
    assert {m.not_before for m in held} == {msk(2026, 12, 19, 8, 0)}
    async with uows() as uow:
        assert await outbox_service.claim_due(uow, owner="s", limit=10, lease=LEASE) == []
    with pytest.raises(PermissionDenied):
        async with uows() as uow:
            await preferences.set_quiet_hours(uow, admin, False)
    async with uows() as uow:
        view = await preferences.set_quiet_hours(uow, owner, False)
    assert view.quiet_hours is False
    async with uows() as uow:  # what was held goes out now
        assert len(await outbox_service.claim_due(uow, owner="s", limit=10, lease=LEASE)) == 2
    clock.set(msk(2026, 12, 21, 0, 30))
    await tick(uows)
    night = (await outbox(uows, "service.warning"))[-1]
    assert night.not_before == clock.now()
    async with uows() as uow:
        after = await uow.session.scalar(
            select(AuditEntry.after).where(AuditEntry.action == "account.quiet_hours_changed")
        )
    assert after == {"quiet_hours": False}


async def test_read_only_account_keeps_its_alert_settings(uows, clock):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin")
    await set_account(uows, owner.account_id, paid_through=date(2026, 11, 1))
    admin = await actor_for(uows, admin.telegram_id)
    assert admin.read_only
    with pytest.raises(PermissionDenied) as refused:
        async with uows() as uow:
            await preferences.set_alerts(uow, admin, True)
    assert refused.value.code == "account_read_only"
    async with uows() as uow:
        assert (await uow.session.get(Member, admin.member_id)).alerts_opt_in is False


async def test_a_return_is_announced_to_the_others_with_who_did_it(uows, clock):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin")
    await opt_in(uows, admin.member_id)
    await fund(uows, owner, 790_00 * 2)
    chat = (await order(uows, owner, "chat_widget")).service.id
    await tick(uows)
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, chat, False)
    clock.set(msk(2026, 12, 22, 12))
    await tick(uows)  # disconnected: announced to both
    version = (await load(uows, chat)).version
    async with uows() as uow:
        await service.return_service(uow, admin, chat, version)
    (returned,) = await outbox(uows, "service.returned")
    assert returned.chat_id == 1000  # the admin who returned it sees the card instead
    assert (returned.params["actor"], returned.params["ends_on"]) == ("@user2000", "2027-01-22")
    assert returned.params["balance"] == 0
