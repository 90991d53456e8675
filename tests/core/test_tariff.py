"""Tariff services on SQLite and PostgreSQL: prepay, seats, tariff change, read-only, reminders."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.accounts.models import Account
from core.accounts.service import NewAccount, create_account
from core.audit.models import AuditEntry
from core.errors import InvalidInput, PermissionDenied
from core.members import service as members
from core.members.access import check_access
from core.members.invites import CreatedInvite, SeatConfirmation, accept_invite, create_invite
from core.members.models import Invite
from core.tariff import service
from core.tariff.catalog import load_catalog
from core.tariff.models import TariffPayment
from tests.support.factories import actor_for, join, new_account

CATALOG = load_catalog()
TTL = timedelta(hours=48)
TODAY = date(2026, 11, 22)  # T0 in Moscow


async def prepaid(uows, owner, *months: int) -> date | None:
    result = None
    for m in months:
        async with uows() as uow:
            result = (await service.prepay(uow, owner, m, None, CATALOG)).paid_through
    return result


async def paid_through(uows, account_id: int) -> date | None:
    async with uows() as uow:
        return (await uow.session.get(Account, account_id)).paid_through


async def entries(uows, account_id: int, action: str) -> list[AuditEntry]:
    async with uows() as uow:
        rows = await uow.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.account_id == account_id, AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def invite(uows, actor, confirmed_cost=None):
    async with uows() as uow:
        return await create_invite(
            uow, actor, "manager", ttl=TTL, catalog=CATALOG, confirmed_cost=confirmed_cost
        )


async def accept(uows, token: str, telegram_id: int):
    async with uows() as uow:
        return await accept_invite(
            uow, token, telegram_id=telegram_id, username=None, full_name="New", catalog=CATALOG
        )


async def standard_with_three(uows):
    """The guide's worked example: Standard, 3 members, paid through 22.03.2027 = 120 days left."""
    owner = await new_account(uows)
    await join(uows, owner, 2001, "admin")
    await join(uows, owner, 2002)
    assert await prepaid(uows, owner, 3, 1) == date(2027, 3, 22)
    return owner


# --- Accounts ---------------------------------------------------------------------------------


async def test_account_with_unknown_tariff_is_refused_and_nothing_is_created(uows):
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await create_account(uow, NewAccount(name="X", owner_telegram_id=1, tariff_code="vip"))
    assert err.value.code == "tariff_unknown"
    assert err.value.params["known"] == "start, standard, business, premium"
    async with uows() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Account)) == 0


# --- Status and invoice -----------------------------------------------------------------------


async def test_status_counts_blocked_but_not_removed_members(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    blocked = await join(uows, owner, 2002)
    removed = await join(uows, owner, 2003)
    await join(uows, owner, 2004)
    async with uows() as uow:
        await members.block_member(uow, owner, blocked.member_id)
    async with uows() as uow:
        await members.remove_member(uow, owner, removed.member_id)
    async with uows() as uow:
        status = await service.tariff_status(uow, admin, CATALOG)  # admins may look
    assert (status.members, status.extra_users, status.monthly_cost) == (4, 1, 338000)
    assert status.next_invoice.total == 338000
    assert (status.paid_through, status.days_left, status.lapsed) == (None, 0, False)
    assert status.discounts[-1] == (12, 15)


async def test_invoice_preview_and_who_may_see_it(uows):
    owner = await new_account(uows)
    for tg in (2001, 2002, 2003):
        await join(uows, owner, tg)
    async with uows() as uow:
        assert (await service.preview_invoice(uow, owner, 12, CATALOG)).total == 3447600
    manager = await actor_for(uows, 2001)
    with pytest.raises(PermissionDenied):
        async with uows() as uow:
            await service.preview_invoice(uow, manager, 1, CATALOG)
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await service.preview_invoice(uow, owner, 2, CATALOG)
    assert err.value.code == "invoice_months"


# --- Prepayment -------------------------------------------------------------------------------


async def test_prepay_records_the_invoice_and_moves_the_date_by_calendar_months(uows):
    owner = await new_account(uows, tariff_code="start")
    for tg in (2001, 2002, 2003, 2004):
        await join(uows, owner, tg)
    async with uows() as uow:
        result = await service.prepay(uow, owner, 3, " PAY-1 ", CATALOG)
    assert not result.duplicate
    assert result.payment.amount == 752400  # the guide's worked example: 7 524,00 ₽
    assert result.paid_through == date(2027, 2, 22) == await paid_through(uows, owner.account_id)
    [entry] = await entries(uows, owner.account_id, "tariff.prepaid")
    assert entry.before == {"paid_through": None}
    assert entry.after["paid_through"] == "2027-02-22" and entry.after["reference"] == "PAY-1"
    assert entry.actor_id == owner.member_id
    # A second payment extends the running period.
    assert await prepaid(uows, owner, 1) == date(2027, 3, 22)


async def test_the_same_reference_never_counts_twice(uows):
    owner = await new_account(uows)
    other = await new_account(uows, owner_tg=9000, name="Other")
    async with uows() as uow:
        first = await service.prepay(uow, owner, 1, "bank-42", CATALOG)
    async with uows() as uow:
        again = await service.prepay(uow, owner, 12, "bank-42", CATALOG)
    assert again.duplicate and again.payment.id == first.payment.id and again.payment.months == 1
    assert await paid_through(uows, owner.account_id) == date(2026, 12, 22)
    assert len(await entries(uows, owner.account_id, "tariff.prepaid")) == 1
    # Another account's reference is its own; no reference never collides.
    async with uows() as uow:
        assert not (await service.prepay(uow, other, 1, "bank-42", CATALOG)).duplicate
    await prepaid(uows, owner, 1, 1)
    assert await paid_through(uows, owner.account_id) == date(2027, 2, 22)


async def test_concurrent_repeats_of_one_reference_count_once(uows):
    owner = await new_account(uows)

    async def pay() -> bool:
        async with uows() as uow:
            return (await service.prepay(uow, owner, 1, "same", CATALOG)).duplicate

    results = await asyncio.gather(*(pay() for _ in range(5)))
    assert results.count(False) == 1
    assert await paid_through(uows, owner.account_id) == date(2026, 12, 22)


async def test_reference_is_unique_in_the_database(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        await service.prepay(uow, owner, 1, "r", CATALOG)
    with pytest.raises(IntegrityError):
        async with uows() as uow:
            uow.session.add(
                TariffPayment(
                    account_id=owner.account_id,
                    tariff_code="standard",
                    months=1,
                    members=1,
                    amount=1,
                    reference="r",
                    paid_through_after=TODAY,
                    created_at=datetime.now(UTC),
                )
            )
            await uow.commit()


async def test_only_billing_manage_pays_and_bad_input_changes_nothing(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    cases = [
        (admin, 1, None, "permission_denied"),
        (owner, 2, None, "invoice_months"),
        (owner, 1, "x" * 101, "reference_too_long"),
    ]
    for actor, months, reference, code in cases:
        with pytest.raises((PermissionDenied, InvalidInput)) as err:
            async with uows() as uow:
                await service.prepay(uow, actor, months, reference, CATALOG)
        assert err.value.code == code
    assert await paid_through(uows, owner.account_id) is None
    assert await entries(uows, owner.account_id, "tariff.prepaid") == []


async def test_cli_payment_without_actor_is_logged_as_system(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        result = await service.record_prepayment(uow, owner.account_id, 6, "cli-1", CATALOG)
    assert result.paid_through == date(2027, 5, 22)
    [entry] = await entries(uows, owner.account_id, "tariff.prepaid")
    assert entry.actor_id is None and entry.after["amount"] == 1620000  # 3 000 × 6 − 10 %


# --- Seats ------------------------------------------------------------------------------------


async def test_design_example_fourth_member_after_confirmation(uows):
    owner = await standard_with_three(uows)
    asked = await invite(uows, owner)
    assert isinstance(asked, SeatConfirmation)
    seats = asked.seats
    assert (seats.members_before, seats.members_after, seats.tariff_after.free_users) == (3, 4, 3)
    assert (seats.monthly_before, seats.monthly_after) == (300000, 338000)
    assert (seats.paid_through_before, seats.paid_through_after) == (
        date(2027, 3, 22),
        date(2027, 3, 8),  # 106 days: 14 days earlier
    )
    async with uows() as uow:  # asking created nothing
        assert await uow.session.scalar(select(func.count()).select_from(Invite)) == 2
    created = await invite(uows, owner, confirmed_cost=338000)
    assert isinstance(created, CreatedInvite)
    assert await paid_through(uows, owner.account_id) == date(2027, 3, 22)  # not before joining
    await accept(uows, created.token, 2003)
    assert await paid_through(uows, owner.account_id) == date(2027, 3, 8)
    [entry] = await entries(uows, owner.account_id, "tariff.seats_changed")
    assert (entry.before["paid_through"], entry.after["paid_through"]) == (
        "2027-03-22",
        "2027-03-08",
    )
    assert (entry.before["members"], entry.after["members"]) == (3, 4)


async def test_confirmation_is_checked_again_when_the_invite_is_accepted(uows):
    owner = await standard_with_three(uows)
    first = await invite(uows, owner, confirmed_cost=338000)
    second = await invite(uows, owner, confirmed_cost=338000)
    await accept(uows, first.token, 2003)
    moved = await paid_through(uows, owner.account_id)
    # The second link was agreed as member 4; it would now be member 5 (3 760 ₽/month).
    with pytest.raises(InvalidInput) as err:
        await accept(uows, second.token, 2004)
    assert err.value.code == "invite_unconfirmed"
    assert await paid_through(uows, owner.account_id) == moved
    async with uows() as uow:
        assert (await uow.session.get(Invite, second.invite.id)).used_at is None
        assert (await check_access(uow, 2004, username=None, full_name="")).actor is None
    # A fresh confirmation at the new price lets the next one in.
    again = await invite(uows, owner)
    assert isinstance(again, SeatConfirmation) and again.seats.monthly_after == 376000
    created = await invite(uows, owner, confirmed_cost=376000)
    await accept(uows, created.token, 2004)
    assert await paid_through(uows, owner.account_id) == TODAY + timedelta(days=106 * 3380 // 3760)


async def test_a_free_invite_that_became_paid_is_refused(uows):
    owner = await new_account(uows)
    await join(uows, owner, 2001)
    await prepaid(uows, owner, 3)
    free_then = await invite(uows, owner)  # member 3 of 3: free, nothing to confirm
    assert isinstance(free_then, CreatedInvite) and free_then.seats.monthly_delta == 0
    await join(uows, owner, 2002)  # the last free seat is taken by someone else
    with pytest.raises(InvalidInput) as err:
        await accept(uows, free_then.token, 2003)
    assert err.value.code == "invite_unconfirmed"


async def test_paid_seat_without_prepaid_days_needs_no_confirmation(uows):
    owner = await new_account(uows)
    for tg in (2001, 2002):
        await join(uows, owner, tg)
    created = await invite(uows, owner)  # never paid: nothing to shorten
    assert isinstance(created, CreatedInvite)
    assert created.seats.monthly_delta == 38000 and created.seats.members_after == 4
    await accept(uows, created.token, 2003)
    assert await paid_through(uows, owner.account_id) is None
    [entry] = await entries(uows, owner.account_id, "tariff.seats_changed")
    assert (entry.before["monthly_cost"], entry.after["monthly_cost"]) == (300000, 338000)


async def test_a_change_on_the_paid_through_day_itself_moves_nothing(uows, clock):
    owner = await new_account(uows)
    for tg in (2001, 2002):
        await join(uows, owner, tg)
    await prepaid(uows, owner, 1)  # through 22.12.2026
    clock.set(datetime(2026, 12, 22, 20, 0, tzinfo=UTC))  # 23:00 in Moscow, still the 22nd
    created = await invite(uows, owner)
    assert isinstance(created, CreatedInvite)  # D = 0: nothing to confirm
    await accept(uows, created.token, 2003)
    assert await paid_through(uows, owner.account_id) == date(2026, 12, 22)


async def test_removing_a_paid_seat_lengthens_the_period(uows):
    owner = await standard_with_three(uows)
    created = await invite(uows, owner, confirmed_cost=338000)
    await accept(uows, created.token, 2003)
    assert await paid_through(uows, owner.account_id) == date(2027, 3, 8)  # 106 days
    newcomer = await actor_for(uows, 2003)
    async with uows() as uow:
        await members.block_member(uow, owner, newcomer.member_id)  # blocked still counts
    async with uows() as uow:
        await members.unblock_member(uow, owner, newcomer.member_id)
    assert await paid_through(uows, owner.account_id) == date(2027, 3, 8)
    async with uows() as uow:
        await members.remove_member(uow, owner, newcomer.member_id, catalog=CATALOG)
    # floor(106 × 3380 / 3000) = 119 days
    assert await paid_through(uows, owner.account_id) == TODAY + timedelta(days=119)
    changes = await entries(uows, owner.account_id, "tariff.seats_changed")
    assert [(e.before["paid_through"], e.after["paid_through"]) for e in changes] == [
        ("2027-03-22", "2027-03-08"),
        ("2027-03-08", "2027-03-21"),
    ]
    # Removing a free seat changes neither the price nor the date.
    free = await actor_for(uows, 2002)
    async with uows() as uow:
        await members.remove_member(uow, owner, free.member_id, catalog=CATALOG)
    assert await paid_through(uows, owner.account_id) == date(2027, 3, 21)
    assert len(await entries(uows, owner.account_id, "tariff.seats_changed")) == 2


async def test_concurrent_joins_are_priced_one_after_another(uows):
    owner = await standard_with_three(uows)
    links = [await invite(uows, owner, confirmed_cost=1_000_000) for _ in range(3)]
    await asyncio.gather(*(accept(uows, link.token, 2100 + i) for i, link in enumerate(links)))
    # 120 days at 3 000 → 3 380 → 3 760 → 4 140, each step from the previous date.
    days = 120
    for old, new in ((300000, 338000), (338000, 376000), (376000, 414000)):
        days = days * old // new
    assert await paid_through(uows, owner.account_id) == TODAY + timedelta(days=days)
    assert len(await entries(uows, owner.account_id, "tariff.seats_changed")) == 3


# --- Tariff change ----------------------------------------------------------------------------


async def test_plan_change_converts_the_remaining_days(uows):
    owner = await standard_with_three(uows)
    await accept(uows, (await invite(uows, owner, confirmed_cost=338000)).token, 2003)
    async with uows() as uow:
        preview = await service.preview_plan(uow, owner, "business", CATALOG)
    assert preview.paid_through_after == TODAY + timedelta(days=106 * 3380 // 6000)
    assert await paid_through(uows, owner.account_id) == date(2027, 3, 8)  # only a preview
    async with uows() as uow:
        change = await service.change_plan(uow, owner, "business", CATALOG)
    assert change == preview
    async with uows() as uow:
        account = await uow.session.get(Account, owner.account_id)
    assert (account.tariff_code, account.paid_through) == ("business", date(2027, 1, 20))
    [entry] = await entries(uows, owner.account_id, "tariff.plan_changed")
    assert (entry.before["tariff"], entry.after["tariff"]) == ("standard", "business")
    assert (entry.before["paid_through"], entry.after["paid_through"]) == (
        "2027-03-08",
        "2027-01-20",
    )


async def test_plan_change_refusals_change_nothing(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    cases = [(owner, "standard", "same_tariff"), (owner, "gold", "tariff_unknown")]
    cases.append((admin, "business", "owner_only"))
    for actor, code, error in cases:
        with pytest.raises((InvalidInput, PermissionDenied)) as err:
            async with uows() as uow:
                await service.change_plan(uow, actor, code, CATALOG)
        assert err.value.code == error
    assert await entries(uows, owner.account_id, "tariff.plan_changed") == []


# --- Read-only after the paid-through date ----------------------------------------------------


async def test_lapsed_account_is_read_only_except_paying(uows, clock):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    manager = await join(uows, owner, 2002)
    await prepaid(uows, owner, 1)  # through 22.12.2026
    # 21:30 UTC on the 22nd is already the 23rd in Moscow.
    clock.set(datetime(2026, 12, 22, 21, 30, tzinfo=UTC))
    admin = await actor_for(uows, 2001)
    owner = await actor_for(uows, 1000)
    assert admin.read_only and owner.read_only
    writes = [
        lambda uow: members.block_member(uow, admin, manager.member_id),
        lambda uow: members.change_role(uow, owner, manager.member_id, "admin"),
        lambda uow: members.remove_member(uow, owner, manager.member_id),
        lambda uow: members.transfer_ownership(uow, owner, admin.member_id),
        lambda uow: create_invite(uow, admin, None, ttl=TTL),
    ]
    for write in writes:
        with pytest.raises(PermissionDenied) as err:
            async with uows() as uow:
                await write(uow)
        assert err.value.code == "account_read_only"
    async with uows() as uow:  # looking is fine, and the card offers no actions
        card = await members.member_card(uow, admin, manager.member_id)
        status = await service.tariff_status(uow, admin, CATALOG)
    assert card.actions == () and status.lapsed
    async with uows() as uow:  # one's own language is not account data
        assert await members.set_locale(uow, admin, "en") == "en"
    async with uows() as uow:  # the owner can still pay, from today
        paid = await service.prepay(uow, owner, 1, None, CATALOG)
    assert paid.paid_through == date(2027, 1, 23)
    assert not (await actor_for(uows, 2001)).read_only


async def test_each_member_is_told_once_per_lapse(uows, clock):
    owner = await new_account(uows)
    await join(uows, owner, 2001, username="anna")
    await prepaid(uows, owner, 1)

    async def told(tg: int) -> date | None:
        async with uows() as uow:
            access = await check_access(uow, tg, username="anna", full_name="User 2001")
        assert access.actor is not None  # read-only members still get in
        return access.read_only_since

    assert await told(2001) is None  # paid: nothing to say
    clock.set(datetime(2026, 12, 23, 9, 0, tzinfo=UTC))
    assert [await told(2001), await told(2001), await told(1000)] == [
        date(2026, 12, 22),
        None,
        date(2026, 12, 22),
    ]
    async with uows() as uow:
        await service.prepay(uow, await actor_for(uows, 1000), 1, None, CATALOG)
    clock.set(datetime(2027, 1, 24, 9, 0, tzinfo=UTC))  # lapsed again: told again
    assert await told(2001) == date(2027, 1, 23)


async def test_an_invite_to_a_lapsed_account_is_not_accepted(uows, clock):
    owner = await new_account(uows)
    await prepaid(uows, owner, 1)
    async with uows() as uow:
        created = await create_invite(uow, owner, None, ttl=timedelta(days=60))
    clock.set(datetime(2026, 12, 23, 9, 0, tzinfo=UTC))
    with pytest.raises(InvalidInput) as err:
        await accept(uows, created.token, 2001)
    assert err.value.code == "invite_read_only"


# --- Renewal reminders (the scheduler of issue 6 will deliver them) ---------------------------


async def test_reminders_7_3_1_days_before_with_the_invoice(uows, clock):
    owner = await new_account(uows)
    for tg in (2001, 2002, 2003):
        await join(uows, owner, tg)
    await prepaid(uows, owner, 1)  # through 22.12.2026
    seen = {}
    for day in range(10, 24):  # 10.12 … 23.12, 09:00 UTC = 12:00 Moscow
        clock.set(datetime(2026, 12, day, 9, 0, tzinfo=UTC))
        async with uows() as uow:
            due = await service.due_renewal_reminders(uow, CATALOG)
        seen[day] = [(r.days_before, r.days_left) for r in due]
    assert seen[14] == [] and seen[15] == [(7, 7)]
    assert seen[16] == [(7, 6)]  # catching up keeps the same event key
    assert seen[19] == [(3, 3)] and seen[21] == [(1, 1)]
    assert seen[22] == [(1, 0)] and seen[23] == []
    clock.set(datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    async with uows() as uow:
        [reminder] = await service.due_renewal_reminders(uow, CATALOG)
    assert reminder.owner_telegram_id == 1000 and reminder.locale == "ru"
    assert reminder.invoice.total == 338000 and reminder.invoice.months == 1
    assert reminder.event_key == f"tariff.renewal:{owner.account_id}:2026-12-22:7"


async def test_reminder_day_is_the_account_s_day(uows, clock):
    owner = await new_account(uows, timezone="Asia/Vladivostok")  # UTC+10
    await prepaid(uows, owner, 1)  # through 22.12.2026
    clock.set(datetime(2026, 12, 14, 14, 30, tzinfo=UTC))  # 15.12 00:30 in Vladivostok
    async with uows() as uow:
        [reminder] = await service.due_renewal_reminders(uow, CATALOG)
    assert reminder.days_before == 7
    async with uows() as uow:
        account = await uow.session.get(Account, owner.account_id)
        clock.set(datetime(2026, 12, 14, 13, 30, tzinfo=UTC))  # 23:30 on the 14th there
        assert await service.renewal_reminder(uow, account, CATALOG) is None
