from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.journal import billing, service
from core.journal.catalog import CatalogError, default_catalog, load_catalog
from core.journal.forecast import Color
from core.journal.renewals import process_due_services
from core.journal.service import CardAction
from core.ledger.service import InsufficientFunds
from tests.support.factories import join, new_account
from tests.support.journal import (
    entries,
    fund,
    load,
    money,
    numbers,
    order,
    service_actions,
    set_timezone,
    set_up,
)

MSK_MIDNIGHT_22_DEC = datetime(2026, 12, 21, 21, 0, tzinfo=UTC)


async def run(uows) -> list[tuple[str, int]]:
    async with uows() as uow:
        return [(t.action, t.charged) for t in await process_due_services(uow)]


async def card(uows, actor, service_id):
    async with uows() as uow:
        return await service.service_card(uow, actor, service_id)


async def charges(uows, account_id) -> list[str]:
    return [key for kind, _, key in await entries(uows, account_id) if kind == "charge"]


async def active_call_tracking(uows, owner, funds: int) -> int:
    """An account with `funds` on top of one call tracking, active from 22 Nov to 22 Dec."""
    await fund(uows, owner, 1_490_00 + funds)
    ordered = await order(uows, owner, "call_tracking")
    await set_up(uows, owner, ordered.service.id)
    return ordered.service.id


def test_default_catalog_is_realistic():
    catalog = default_catalog()
    codes = [item.code for item in catalog.items]
    assert codes == [
        "call_tracking",
        "multitracking",
        "chat_widget",
        "callback_widget",
        "email_tracking",
        "analytics_export",
    ]
    multi = catalog.get("multitracking")
    assert (multi.price, multi.period_months, multi.setup_needed) == (4_900_00, 1, True)
    assert multi.resources == {"tracking_number": 5}
    assert (
        multi.name("ru") == "Пакет МультиТрекинга" and multi.name("en") == "Multi-tracking package"
    )
    assert catalog.get("analytics_export").period_months == 3
    assert len(catalog.pools["tracking_number"].values()) == 300


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ("price = -5\nperiod_months = 1\n", "price must be a positive"),
        ("price = 100\nresources = { sim = 1 }\n", "no [[pool]] for ['sim']"),
        ("price = 100\nperiod_months = 0\n", "period_months must be 1–36"),
    ],
)
def test_a_bad_catalog_names_the_entry(tmp_path, fragment, message):
    path = tmp_path / "catalog.toml"
    path.write_text(
        f'[[service]]\ncode = "x"\nname_ru = "Икс"\nname_en = "X"\n{fragment}', encoding="utf-8"
    )
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    assert message in str(err.value) and "(x)" in str(err.value)


async def test_order_charges_the_first_period_and_holds_numbers(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 10_000_00)
    ordered = await order(uows, owner, "multitracking")
    s = ordered.service
    assert (s.status, s.price, s.auto_renew, s.started_on, s.ends_on) == (
        "needs_setup",
        4_900_00,
        True,
        None,
        None,
    )
    assert (ordered.balance, ordered.amount) == (5_100_00, 4_900_00)
    assert await numbers(uows, s.id) == [f"+749512000{n:02d}" for n in range(1, 6)]
    assert await money(uows, owner.account_id) == (5_100_00, 5_100_00)
    assert await service_actions(uows, s.id) == ["service.ordered"]


async def test_short_balance_refuses_the_order_with_the_shortfall(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)
    with pytest.raises(InsufficientFunds) as err:
        await order(uows, owner, "call_tracking")
    assert err.value.params["shortfall"] == 490_00
    async with uows() as uow:
        assert (await service.journal(uow, owner)).rows == []
    assert await money(uows, owner.account_id) == (1_000_00, 1_000_00)


async def test_unknown_catalog_code_and_bad_request_key_change_nothing(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)
    with pytest.raises(NotFound):
        await order(uows, owner, "teleport")
    with pytest.raises(InvalidInput):
        await order(uows, owner, "chat_widget", key="a:b")
    assert await money(uows, owner.account_id) == (1_000_00, 1_000_00)


async def test_double_submitted_order_is_charged_once(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 10_000_00)
    results = await asyncio.gather(*(order(uows, owner, "chat_widget", "tap-1") for _ in range(4)))
    assert len({r.service.id for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False, True, True, True]
    assert await money(uows, owner.account_id) == (9_210_00, 9_210_00)


async def test_parallel_orders_never_take_the_balance_below_zero(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 5_000_00)

    async def try_order() -> int | None:
        try:
            return (await order(uows, owner, "call_tracking")).service.id
        except InsufficientFunds:
            return None

    ids = [i for i in await asyncio.gather(*(try_order() for _ in range(5))) if i]
    assert len(ids) == 3
    held = [await numbers(uows, i) for i in ids]
    assert len({n for h in held for n in h}) == 3  # each its own number
    assert await money(uows, owner.account_id) == (530_00, 530_00)


async def test_an_empty_pool_refuses_before_charging(uows, tmp_path, monkeypatch):
    source = load_catalog().pools["tracking_number"]
    path = tmp_path / "catalog.toml"
    path.write_text(
        '[[service]]\ncode = "multitracking"\nname_ru = "М"\nname_en = "M"\nprice = 100\n'
        "resources = { tracking_number = 5 }\n"
        f'[[pool]]\nkind = "tracking_number"\nprefix = "{source.prefix}"\ncount = 7\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(service, "default_catalog", lambda: load_catalog(path))
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)
    await order(uows, owner, "multitracking")
    with pytest.raises(Conflict) as err:
        await order(uows, owner, "multitracking")
    assert err.value.code == "pool_empty"
    assert await money(uows, owner.account_id) == (999_00, 999_00)


async def test_only_admins_mark_set_up_and_the_first_period_starts_then(uows, clock):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    manager = await join(uows, owner, 2002)
    await fund(uows, owner, 5_000_00)
    with pytest.raises(PermissionDenied):
        await order(uows, manager, "call_tracking")
    s = (await order(uows, admin, "call_tracking")).service
    with pytest.raises(PermissionDenied):
        await set_up(uows, manager, s.id)
    clock.advance(timedelta(days=2))
    active = await set_up(uows, admin, s.id)
    assert (active.status, active.started_on, active.ends_on) == (
        "active",
        date(2026, 11, 24),
        date(2026, 12, 24),
    )
    with pytest.raises(InvalidInput) as err:
        await set_up(uows, admin, s.id)
    assert err.value.code == "not_pending"
    assert await service_actions(uows, s.id) == ["service.ordered", "service.activated"]


async def test_a_service_without_setup_is_switched_on_by_the_lifecycle(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)
    s = (await order(uows, owner, "chat_widget")).service
    assert s.status == "ordered"
    assert await run(uows) == [("service.activated", 0)]
    assert await run(uows) == []
    active = await load(uows, s.id)
    assert (active.status, active.started_on, active.ends_on) == (
        "active",
        date(2026, 11, 22),
        date(2026, 12, 22),
    )


async def test_renews_at_local_midnight_once_and_keeps_the_month_end(uows, clock):
    owner = await set_timezone(uows, await new_account(uows), "Asia/Vladivostok")
    clock.set(datetime(2027, 1, 31, 2, 0, tzinfo=UTC))  # 12:00 on 31 Jan in Vladivostok
    await fund(uows, owner, 5_000_00)
    s = (await order(uows, owner, "chat_widget")).service
    await run(uows)
    assert (await load(uows, s.id)).ends_on == date(2027, 2, 28)
    clock.set(datetime(2027, 2, 27, 13, 59, tzinfo=UTC))  # 23:59 on 27 Feb there
    assert await run(uows) == []
    clock.set(datetime(2027, 2, 27, 14, 0, tzinfo=UTC))  # 00:00 on 28 Feb there
    assert await run(uows) == [("service.renewed", 790_00)]
    assert await run(uows) == []
    renewed = await load(uows, s.id)
    assert (renewed.started_on, renewed.ends_on) == (date(2027, 2, 28), date(2027, 3, 31))
    clock.set(datetime(2027, 3, 30, 14, 0, tzinfo=UTC))
    assert await run(uows) == [("service.renewed", 790_00)]
    assert (await load(uows, s.id)).ends_on == date(2027, 4, 30)
    keys = await charges(uows, owner.account_id)
    assert keys[0].startswith("order:")
    assert keys[1:] == [f"renew:{s.id}:2027-02-28", f"renew:{s.id}:2027-03-31"]
    assert await money(uows, owner.account_id) == (2_630_00, 2_630_00)


async def test_missed_runs_charge_each_period_once(uows, clock):
    owner = await new_account(uows)
    s = await active_call_tracking(uows, owner, funds=5_000_00)
    clock.set(datetime(2027, 2, 23, 9, 0, tzinfo=UTC))  # three ends passed while nothing ran
    assert await run(uows) == [("service.renewed", 1_490_00)] * 3
    assert (await load(uows, s)).ends_on == date(2027, 3, 22)
    assert await money(uows, owner.account_id) == (530_00, 530_00)


async def test_short_balance_suspends_and_a_top_up_within_14_days_renews(uows, clock):
    owner = await new_account(uows)
    s = await active_call_tracking(uows, owner, funds=0)
    held = await numbers(uows, s)
    clock.set(MSK_MIDNIGHT_22_DEC - timedelta(minutes=1))
    assert await run(uows) == []
    clock.set(MSK_MIDNIGHT_22_DEC)
    assert await run(uows) == [("service.suspended", 0)]
    suspended = await load(uows, s)
    assert (suspended.status, suspended.lapsed_on) == ("suspended", date(2026, 12, 22))
    assert (await card(uows, owner, s)).row.color == Color.RED
    clock.advance(timedelta(days=5))
    assert (await fund(uows, owner, 1_000_00)).transitions == []
    resumed = await fund(uows, owner, 500_00)
    assert [(t.action, t.charged) for t in resumed.transitions] == [("service.resumed", 1_490_00)]
    s_now = await load(uows, s)
    assert (s_now.status, s_now.started_on, s_now.ends_on) == (
        "active",
        date(2026, 12, 27),
        date(2027, 1, 27),
    )
    assert await numbers(uows, s) == held
    assert await money(uows, owner.account_id) == (10_00, 10_00)
    assert await service_actions(uows, s) == [
        "service.ordered",
        "service.activated",
        "service.suspended",
        "service.resumed",
    ]


async def test_auto_renew_on_again_resumes_at_once_when_covered(uows, clock):
    owner = await new_account(uows)
    s = await active_call_tracking(uows, owner, funds=0)
    clock.set(MSK_MIDNIGHT_22_DEC)
    assert await run(uows) == [("service.suspended", 0)]
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, s, False)
    assert (await fund(uows, owner, 2_000_00)).transitions == []
    assert await run(uows) == []
    assert (await load(uows, s)).status == "suspended"
    clock.advance(timedelta(days=1))
    async with uows() as uow:
        resumed = await service.set_auto_renew(uow, owner, s, True)
    assert (resumed.status, resumed.started_on) == ("active", date(2026, 12, 23))
    assert await money(uows, owner.account_id) == (510_00, 510_00)


async def test_a_disconnected_service_has_no_auto_renew_toggle(uows, clock):
    owner = await new_account(uows)
    s = await active_call_tracking(uows, owner, funds=0)
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, s, False)
    clock.set(MSK_MIDNIGHT_22_DEC)
    assert await run(uows) == [("service.disconnected", 0)]
    assert (await card(uows, owner, s)).actions == (CardAction.RETURN, CardAction.LOG)
    with pytest.raises(InvalidInput):
        async with uows() as uow:
            await service.set_auto_renew(uow, owner, s, True)


async def test_suspended_past_14_days_is_closed_and_its_numbers_go_back(uows, clock):
    owner = await new_account(uows)
    s = await active_call_tracking(uows, owner, funds=0)
    held = await numbers(uows, s)
    clock.set(MSK_MIDNIGHT_22_DEC)
    await run(uows)
    closes = datetime(2027, 1, 4, 21, 0, tzinfo=UTC)  # 5 Jan 00:00 in Moscow
    clock.set(closes - timedelta(minutes=1))
    assert await run(uows) == []
    assert (await card(uows, owner, s)).row.return_days_left == 1
    clock.set(closes)
    assert await run(uows) == [("service.closed", 0)]
    assert (await load(uows, s)).status == "closed"
    closed = await card(uows, owner, s)
    assert (closed.row.color, closed.actions) == (Color.RED, (CardAction.LOG,))
    assert await numbers(uows, s) == []
    assert (await fund(uows, owner, 5_000_00)).transitions == []  # too late to renew
    other = await new_account(uows, owner_tg=2, name="Other")
    await fund(uows, other, 1_490_00)
    taken = await order(uows, other, "call_tracking")
    assert await numbers(uows, taken.service.id) == held


@pytest.mark.parametrize("at", ["last minute", "window closed"])
async def test_return_window_ends_at_local_midnight_to_the_minute(uows, clock, at):
    owner = await set_timezone(uows, await new_account(uows), "Asia/Vladivostok")
    clock.set(datetime(2026, 11, 30, 23, 0, tzinfo=UTC))  # 09:00 on 1 Dec in Vladivostok
    s = await active_call_tracking(uows, owner, funds=1_490_00)
    held = await numbers(uows, s)
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, s, False)
    clock.set(datetime(2026, 12, 31, 14, 0, tzinfo=UTC))  # 1 Jan 00:00 there
    assert await run(uows) == [("service.disconnected", 0)]
    # The window closes at 15 Jan 00:00 in Vladivostok = 14 Jan 14:00 UTC.
    if at == "last minute":
        clock.set(datetime(2027, 1, 14, 13, 59, tzinfo=UTC))
        shown = await card(uows, owner, s)
        assert shown.row.return_days_left == 1 and CardAction.RETURN in shown.actions
        async with uows() as uow:
            returned = await service.return_service(uow, owner, s, shown.row.service.version)
        assert (returned.service.status, returned.service.started_on, returned.amount) == (
            "active",
            date(2027, 1, 14),
            1_490_00,
        )
        assert returned.service.ends_on == date(2027, 2, 14)
        assert await numbers(uows, s) == held
        assert await money(uows, owner.account_id) == (0, 0)
    else:
        clock.set(datetime(2027, 1, 14, 14, 0, tzinfo=UTC))
        assert CardAction.RETURN not in (await card(uows, owner, s)).actions
        with pytest.raises(InvalidInput) as err:
            async with uows() as uow:
                await service.return_service(uow, owner, s)
        assert err.value.code == "return_window_closed"
        assert err.value.params["closed_on"] == date(2027, 1, 15)
        assert await run(uows) == [("service.closed", 0)]
        assert await numbers(uows, s) == []
        assert await money(uows, owner.account_id) == (1_490_00, 1_490_00)


async def test_double_submitted_return_is_charged_once(uows, clock):
    owner = await new_account(uows)
    s = await active_call_tracking(uows, owner, funds=5_000_00)
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, s, False)
    clock.set(MSK_MIDNIGHT_22_DEC)
    await run(uows)
    version = (await card(uows, owner, s)).row.service.version

    async def press():
        async with uows() as uow:
            return await service.return_service(uow, owner, s, version)

    results = await asyncio.gather(*(press() for _ in range(3)))
    assert sorted(r.replayed for r in results) == [False, True, True]
    assert len([k for k in await charges(uows, owner.account_id) if k.startswith("return")]) == 1
    assert await money(uows, owner.account_id) == (3_510_00, 3_510_00)
    assert (await service_actions(uows, s))[-2:] == ["service.disconnected", "service.returned"]


async def test_return_needs_the_price_on_the_balance(uows, clock):
    owner = await new_account(uows)
    s = await active_call_tracking(uows, owner, funds=0)
    clock.set(MSK_MIDNIGHT_22_DEC)
    await run(uows)
    with pytest.raises(InsufficientFunds) as err:
        async with uows() as uow:
            await service.return_service(uow, owner, s)
    assert err.value.params["shortfall"] == 1_490_00
    assert (await load(uows, s)).status == "suspended"


async def test_disconnecting_refunds_unused_days_and_can_be_returned(uows, clock):
    owner = await new_account(uows)
    await fund(uows, owner, 2_000_00)
    s = (await order(uows, owner, "chat_widget")).service.id
    await run(uows)  # active 22 Nov – 22 Dec: 30 days
    clock.advance(timedelta(days=10))
    version = (await card(uows, owner, s)).row.service.version
    for _ in range(2):  # a double tap refunds once
        async with uows() as uow:
            result = await service.disconnect_service(uow, owner, s, version)
    assert result.replayed and result.amount == 790_00 * 20 // 30
    stopped = await load(uows, s)
    assert (stopped.status, stopped.lapsed_on) == ("disconnected", date(2026, 12, 2))
    assert await money(uows, owner.account_id) == (1_736_66, 1_736_66)
    with pytest.raises(Conflict) as err:  # a Return button from before the change
        async with uows() as uow:
            await service.return_service(uow, owner, s, version)
    assert err.value.code == "service_changed"
    async with uows() as uow:
        returned = await service.return_service(uow, owner, s, version + 1)
    assert (returned.service.status, returned.service.ends_on) == ("active", date(2027, 1, 2))


async def test_cancelling_an_unstarted_order_refunds_it_and_frees_numbers(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 5_000_00)
    s = (await order(uows, owner, "multitracking")).service.id
    async with uows() as uow:
        result = await service.disconnect_service(uow, owner, s)
    assert (result.service.status, result.amount) == ("closed", 4_900_00)
    assert await numbers(uows, s) == []
    assert await money(uows, owner.account_id) == (5_000_00, 5_000_00)
    assert await service_actions(uows, s) == ["service.ordered", "service.cancelled"]


async def test_concurrent_renewal_and_top_up_lose_nothing(uows, clock):
    owner = await new_account(uows)
    s = await active_call_tracking(uows, owner, funds=1_000_00)
    clock.set(MSK_MIDNIGHT_22_DEC)
    # Two job runs (two processes) and two top-ups race; the balance alone can't pay.
    await asyncio.gather(run(uows), fund(uows, owner, 250_00), run(uows), fund(uows, owner, 250_00))
    renewed = await load(uows, s)
    assert (renewed.status, renewed.ends_on) == ("active", date(2027, 1, 22))
    assert (await charges(uows, owner.account_id))[1:] == [f"renew:{s}:2026-12-22"]
    assert await money(uows, owner.account_id) == (10_00, 10_00)


async def test_journal_colors(uows, clock):
    owner = await new_account(uows)
    await fund(uows, owner, 2_070_00)
    chat = (await order(uows, owner, "chat_widget")).service.id
    callback = (await order(uows, owner, "callback_widget")).service.id
    email = (await order(uows, owner, "email_tracking")).service.id
    await run(uows)
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, callback, False)

    async def rows() -> dict[int, tuple[Color, bool]]:
        async with uows() as uow:
            journal = await service.journal(uow, owner)
        return {r.service.id: (r.color, r.end_marked) for r in journal.rows}

    # A month ahead: the renewal is not covered (end red), but it is not close yet (green).
    assert await rows() == {
        chat: (Color.GREEN, True),
        callback: (Color.GREEN, True),
        email: (Color.YELLOW, False),
    }
    clock.set(datetime(2026, 12, 19, 9, 0, tzinfo=UTC))  # three days before the end
    assert (await rows())[chat] == (Color.RED, True)
    await fund(uows, owner, 790_00)
    assert (await rows())[chat] == (Color.GREEN, False)
    clock.set(MSK_MIDNIGHT_22_DEC)
    await run(uows)
    assert (await rows())[callback] == (Color.RED, True)


async def test_balance_overview_lists_renewals_and_the_runway(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 6_000_00)
    for code in ("chat_widget", "callback_widget", "analytics_export"):
        await order(uows, owner, code)
    await run(uows)  # all active from 22 Nov; balance 1 620 ₽

    async def overview():
        async with uows() as uow:
            return await billing.balance_overview(uow, owner)

    first = await overview()
    assert [(r.on, r.catalog_code) for r in first.renewals] == [
        (date(2026, 12, 22), "chat_widget"),
        (date(2026, 12, 22), "callback_widget"),
    ]
    assert (first.balance, first.total) == (1_620_00, 1_380_00)
    # 22 Dec is paid; on 22 Jan 2 760 ₽ is due in all.
    assert (first.runway.short_on, first.runway.shortfall) == (date(2027, 1, 22), 1_140_00)
    assert [e.kind for e in first.entries] == ["charge", "charge", "charge", "topup"]
    await order(uows, owner, "email_tracking")  # needs setup: nothing renews yet
    second = await overview()
    assert (second.runway.short_on, second.runway.shortfall) == (date(2026, 12, 22), 450_00)


async def test_other_accounts_services_are_not_found(uows):
    owner = await new_account(uows)
    other = await new_account(uows, owner_tg=2, name="Other")
    await fund(uows, other, 1_000_00)
    theirs = (await order(uows, other, "chat_widget")).service.id
    calls = [
        lambda uow: service.service_card(uow, owner, theirs),
        lambda uow: service.service_log(uow, owner, theirs),
        lambda uow: service.set_auto_renew(uow, owner, theirs, False),
        lambda uow: service.return_service(uow, owner, theirs),
        lambda uow: service.disconnect_service(uow, owner, theirs),
        lambda uow: service.mark_set_up(uow, owner, theirs),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            async with uows() as uow:
                await call(uow)
    assert (await load(uows, theirs)).auto_renew is True


async def test_manager_sees_the_journal_and_only_the_log_button(uows):
    owner = await new_account(uows)
    manager = await join(uows, owner, 2002)
    await fund(uows, owner, 1_000_00)
    s = (await order(uows, owner, "chat_widget")).service.id
    assert (await card(uows, manager, s)).actions == (CardAction.LOG,)
    assert (await card(uows, owner, s)).actions == (
        CardAction.AUTO_RENEW_OFF,
        CardAction.DISCONNECT,
        CardAction.MARK_SET_UP,
        CardAction.LOG,
    )
    with pytest.raises(PermissionDenied):
        async with uows() as uow:
            await service.set_auto_renew(uow, manager, s, False)
    async with uows() as uow:
        log = await service.service_log(uow, manager, s)
    assert [r.action for r in log] == ["service.ordered"]


async def test_order_quote_shows_what_the_charge_does_to_the_renewals_ahead(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 6_000_00)
    for code in ("chat_widget", "callback_widget", "analytics_export"):
        await order(uows, owner, code)
    await run(uows)  # all active from 22 Nov; balance 1 620 ₽, 22 Dec (1 380 ₽) covered
    async with uows() as uow:
        quote = await service.order_quote(uow, owner, "chat_widget")
    impact = quote.impact
    assert (impact.balance, impact.after) == (1_620_00, 830_00)
    assert (impact.period_ends, impact.auto_renew) == (date(2026, 12, 22), True)
    assert (impact.covered_before, impact.covered_after) == (date(2027, 1, 22), date(2026, 12, 22))
    # 830 ₽ keep the first chat widget on 22 Dec; the callback widget and the new one fall short.
    short = [(r.on, r.catalog_code, r.service_id) for r in impact.newly_short]
    assert short == [
        (date(2026, 12, 22), "callback_widget", short[0][2]),
        (date(2026, 12, 22), "chat_widget", service.NEW_SERVICE_ID),
    ]
    async with uows() as uow:
        setup = (await service.order_quote(uow, owner, "email_tracking")).impact
    assert (setup.period_ends, setup.auto_renew) == (None, False)  # starts once set up
    assert setup.newly_short[0].catalog_code == "callback_widget"
    assert await money(uows, owner.account_id) == (1_620_00, 1_620_00)  # a quote charges nothing


async def test_return_quote_shows_the_new_period_and_the_reach_of_the_balance(uows, clock):
    owner = await new_account(uows)
    s = await active_call_tracking(uows, owner, funds=3_580_00)
    await order(uows, owner, "chat_widget")
    await run(uows)  # the chat widget works from 22 Nov
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, s, False)
    clock.set(MSK_MIDNIGHT_22_DEC)
    await run(uows)  # call tracking ends; the chat widget renews: 2 000 ₽ left
    async with uows() as uow:
        impact = (await service.return_quote(uow, owner, s)).impact
    assert (impact.balance, impact.after) == (2_000_00, 510_00)
    assert (impact.period_ends, impact.auto_renew) == (date(2027, 1, 22), False)
    assert (impact.covered_before, impact.covered_after) == (date(2027, 3, 22), date(2027, 1, 22))
    assert impact.newly_short == ()  # 22 Jan is 31 days away: beyond the list, in the reach


def test_a_suspended_service_does_not_pull_the_reach_of_the_balance_to_today():
    from core.journal.forecast import Renewal, impact

    today = date(2026, 12, 7)
    ahead = [
        Renewal(today, 1, "analytics_export", 3_000_00, overdue=True),  # waits for money
        Renewal(date(2026, 12, 8), 2, "chat_widget", 790_00),
        Renewal(date(2026, 12, 26), 3, "call_tracking", 1_490_00),
        Renewal(date(2027, 1, 8), 2, "chat_widget", 790_00),
    ]
    seen = impact(2_720_00, ahead, 590_00, today, [], replaces=4)
    assert (seen.covered_before, seen.covered_after) == (date(2027, 1, 8), date(2026, 12, 26))
    assert [(r.on, r.catalog_code) for r in seen.newly_short] == [
        (date(2026, 12, 26), "call_tracking")
    ]
