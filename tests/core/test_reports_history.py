"""The request history's filters (member, action type, period) and its export, in the core."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.audit.service import (
    HISTORY_PAGE_SIZE,
    HistoryFilter,
    audit,
    history,
    history_export,
)
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.reports.periods import custom_period
from tests.support.factories import join, new_account


@pytest.fixture
async def shop(uows):
    owner = await new_account(uows, name="Shop")
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    return {"owner": owner, "admin": admin, "petya": petya}


async def entry(uows, clock, actor, action, at: datetime, subject_id: int = 1) -> None:
    clock.set(at)
    async with uows() as uow:
        audit(uow, actor, action, subject_id)
        await uow.commit()


async def actions(uows, actor, **filters) -> list[str]:
    async with uows() as uow:
        page = await history(uow, actor, **filters)
    return [row.action for row in page.rows]


@pytest.fixture
async def log(uows, clock, shop):
    """Entries around midnight in Moscow (UTC+3), after the set-up entries of 22.11 12:00."""
    petya, admin = shop["petya"], shop["admin"]
    await entry(uows, clock, petya, "order.claimed", datetime(2026, 11, 22, 20, 59, tzinfo=UTC))
    await entry(uows, clock, admin, "order.assigned", datetime(2026, 11, 22, 21, 0, tzinfo=UTC))
    await entry(uows, clock, admin, "member.blocked", datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    await entry(
        uows, clock, petya, "order.status_changed", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    )
    return shop


async def test_member_action_and_period_filters(uows, log):
    admin = log["admin"]
    assert await actions(uows, admin, member_id=log["petya"].member_id, action="orders") == [
        "order.status_changed",
        "order.claimed",
    ]
    assert await actions(uows, admin, action="order.assigned") == ["order.assigned"]
    assert await actions(uows, admin, action="members", member_id=admin.member_id) == [
        "member.blocked",
        "member.joined",
    ]
    # 22.11 local ends at 21:00 UTC: the claim at 20:59 UTC is on the 22nd, the assignment
    # at 21:00 UTC on the 23rd.
    monday = custom_period(date(2026, 11, 23), date(2026, 11, 23))
    assert await actions(uows, admin, period=monday) == [
        "order.status_changed",
        "member.blocked",
        "order.assigned",
    ]
    sunday = custom_period(date(2026, 11, 22), date(2026, 11, 22))
    assert "order.claimed" in await actions(uows, admin, period=sunday, action="orders")
    assert await actions(uows, admin, period=sunday, action="orders") == ["order.claimed"]


async def test_filters_keep_pagination(uows, clock, shop):
    for n in range(HISTORY_PAGE_SIZE + 2):
        await entry(uows, clock, shop["petya"], "order.claimed", clock.now(), subject_id=n)
    async with uows() as uow:
        first = await history(uow, shop["admin"], action="orders")
        second = await history(uow, shop["admin"], page=1, action="orders")
    assert first.has_next and len(second.rows) == 2 and not second.has_next
    assert second.filter == HistoryFilter(None, "orders", None)


async def test_unknown_action_type_is_refused(uows, shop):
    async with uows() as uow:
        with pytest.raises(InvalidInput) as error:
            await history(uow, shop["admin"], action="orders; drop")
    assert error.value.code == "history_action"
    assert "orders" in error.value.params["groups"]


async def test_export_has_every_filtered_entry_not_one_page(uows, clock, shop):
    for n in range(HISTORY_PAGE_SIZE + 5):
        await entry(uows, clock, shop["petya"], "order.claimed", clock.now(), subject_id=n)
    async with uows() as uow:
        rows, truncated = await history_export(uow, shop["owner"], HistoryFilter(action="orders"))
    assert len(rows) == HISTORY_PAGE_SIZE + 5 and not truncated
    assert rows[0].subject_id == HISTORY_PAGE_SIZE + 4  # newest first


async def test_managers_have_no_history(uows, shop):
    async with uows() as uow:
        with pytest.raises(PermissionDenied):
            await history_export(uow, shop["petya"], HistoryFilter())
        with pytest.raises(PermissionDenied):
            await history(uow, shop["petya"], action="orders")


async def test_member_filter_names_the_member_and_refuses_strangers(uows, shop):
    async with uows() as uow:
        page = await history(uow, shop["admin"], member_id=shop["petya"].member_id)
    assert page.member_name == "@petya"
    stranger = await new_account(uows, owner_tg=9000, name="Other")
    async with uows() as uow:
        with pytest.raises(NotFound):
            await history(uow, shop["admin"], member_id=stranger.member_id)
