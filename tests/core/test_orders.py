from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.audit.models import AuditEntry
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.members import service as members
from core.members.models import Member, Role
from core.orders import fields
from core.orders import service as orders
from core.orders.models import Order, OrderStatus
from core.orders.service import Cursor, OrderTab
from core.orders.views import Limited, OrderAction
from tests.support.factories import actor_for, join, new_account
from tests.support.orders import add_order, new_order


@pytest.fixture
async def team(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    return {"owner": owner, "admin": admin, "petya": petya, "vasya": vasya}


async def order_row(uows, order_id) -> Order:
    async with uows() as uow:
        return await uow.session.get(Order, order_id)


async def order_actions(uows, order_id) -> list[str]:
    async with uows() as uow:
        rows = await uow.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject_type == "order", AuditEntry.subject_id == order_id)
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def claim(uows, actor, order_id):
    async with uows() as uow:
        return await orders.claim_order(uow, actor, order_id)


async def card(uows, actor, order_id):
    async with uows() as uow:
        return await orders.order_card(uow, actor, order_id)


# ---- intake ----------------------------------------------------------------------------------


async def test_intake_is_idempotent_by_external_id(uows, team):
    account = team["owner"].account_id
    async with uows() as uow:
        first = await orders.intake_order(uow, account, new_order("1001"))
    async with uows() as uow:
        again = await orders.intake_order(uow, account, new_order("1001"))
    with pytest.raises(Conflict) as err:  # the same external id with another total
        async with uows() as uow:
            await orders.intake_order(uow, account, new_order("1001", total=1))
    assert err.value.code == "external_id_conflict" and err.value.params["fields"] == ("total",)
    assert first.created and not again.created
    assert again.order.id == first.order.id and again.order.total == 300_000
    stored = await order_row(uows, first.order.id)
    assert (stored.status, stored.assignee_id, stored.currency) == ("new", None, "RUB")
    assert stored.items == [{"title": "Чайник", "qty": 2, "price": 150_000}]
    assert await order_actions(uows, first.order.id) == ["order.created"]


async def test_taken_number_with_another_external_id_is_refused(uows, team):
    account = team["owner"].account_id
    await add_order(uows, account, "1001")
    with pytest.raises(Conflict) as err:
        async with uows() as uow:
            await orders.intake_order(uow, account, new_order("1001", external_id="other"))
    assert err.value.code == "order_number_taken"
    async with uows() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Order)) == 1


async def test_manual_entry_needs_orders_create(uows, team):
    with pytest.raises(PermissionDenied):
        async with uows() as uow:
            await orders.create_order(uow, team["petya"], new_order("5", external_id=None))
    async with uows() as uow:
        created = await orders.create_order(uow, team["admin"], new_order("5", external_id=None))
    assert created.details is not None and created.summary.number == "5"
    assert await order_actions(uows, created.summary.id) == ["order.created"]


# ---- the permission matrix -------------------------------------------------------------------


async def test_matrix_own_colleague_unassigned_admin(uows, team):
    account = team["owner"].account_id
    own, colleagues, free = [await add_order(uows, account, n) for n in ("A", "B", "C")]
    await claim(uows, team["petya"], own)
    await claim(uows, team["vasya"], colleagues)

    mine = await card(uows, team["petya"], own)
    assert mine.details.customer_phone == "+7 900 123-45-67" and mine.limited is None
    assert OrderAction.STATUS in mine.actions and OrderAction.LOG in mine.actions
    assert OrderAction.ASSIGN not in mine.actions

    theirs = await card(uows, team["petya"], colleagues)
    assert theirs.details is None and theirs.limited is Limited.COLLEAGUE
    assert theirs.actions == () and theirs.summary.assignee == "@vasya"

    unassigned = await card(uows, team["petya"], free)
    assert unassigned.details is None and unassigned.limited is Limited.UNASSIGNED
    assert unassigned.actions == (OrderAction.CLAIM,)

    admin_view = await card(uows, team["admin"], colleagues)
    assert admin_view.details.customer_email == "ivan@example.com"
    assert {OrderAction.ASSIGN, OrderAction.UNASSIGN, OrderAction.STATUS, OrderAction.LOG} <= set(
        admin_view.actions
    )
    owner_view = await card(uows, team["owner"], free)
    assert owner_view.details is not None
    assert {OrderAction.CLAIM, OrderAction.ASSIGN} <= set(owner_view.actions)


async def test_role_without_team_view_is_refused_with_reason(uows, team):
    account = team["owner"].account_id
    order_id = await add_order(uows, account, "A")
    await claim(uows, team["vasya"], order_id)
    async with uows() as uow:
        role = Role(
            account_id=account, code="solo", permissions=["orders.view_own", "orders.claim"]
        )
        uow.session.add(role)
        await uow.session.flush()
        await uow.session.execute(
            update(Member).where(Member.id == team["petya"].member_id).values(role_id=role.id)
        )
        await uow.commit()
    solo = await actor_for(uows, 3001)
    with pytest.raises(PermissionDenied) as err:
        await card(uows, solo, order_id)
    assert err.value.code == "order_hidden" and err.value.params["holder"] == "@vasya"
    assert orders.tabs_for(solo) == (OrderTab.MINE, OrderTab.UNASSIGNED)


async def test_foreign_order_is_not_found(uows, team):
    other = await new_account(uows, owner_tg=9000, name="Other")
    foreign = await add_order(uows, other.account_id, "X")
    for op in (card, claim):
        with pytest.raises(NotFound):
            await op(uows, team["admin"], foreign)
    with pytest.raises(NotFound) as err:
        async with uows() as uow:
            await orders.order_card_by_number(uow, team["admin"], "X")
    assert err.value.params == {"number": "X"}
    assert (await order_row(uows, foreign)).assignee_id is None


# ---- lists -----------------------------------------------------------------------------------


async def test_tabs_by_role(uows, team):
    assert orders.tabs_for(team["petya"]) == (OrderTab.MINE, OrderTab.UNASSIGNED, OrderTab.ALL)
    async with uows() as uow:
        page = await orders.list_orders(uow, team["petya"], OrderTab.ALL)
    assert page.full_view is False
    async with uows() as uow:
        assert (await orders.list_orders(uow, team["admin"], OrderTab.ALL)).full_view


async def test_keyset_pages_walk_forward_and_back(uows, team, clock):
    account = team["owner"].account_id
    ids = []
    for n in range(25):
        if n % 3:  # some orders share a timestamp: the id breaks the tie
            clock.advance(timedelta(minutes=1))
        ids.append(await add_order(uows, account, f"N{n}"))
    newest_first = list(reversed(ids))
    seen, pages, after = [], [], None
    while True:
        async with uows() as uow:
            page = await orders.list_orders(uow, team["admin"], OrderTab.ALL, after=after)
        pages.append(page)
        seen += [r.id for r in page.rows]
        if page.older is None:
            break
        after = page.older
    assert seen == newest_first
    assert [len(p.rows) for p in pages] == [10, 10, 5]
    assert pages[0].newer is None and pages[1].newer is not None
    async with uows() as uow:
        back = await orders.list_orders(uow, team["admin"], OrderTab.ALL, before=pages[2].newer)
    assert [r.id for r in back.rows] == [r.id for r in pages[1].rows]
    assert back.newer is not None and back.older is not None
    async with uows() as uow:
        first = await orders.list_orders(uow, team["admin"], OrderTab.ALL, before=back.newer)
    assert [r.id for r in first.rows] == newest_first[:10] and first.newer is None


async def test_tabs_and_status_filter(uows, team):
    account = team["owner"].account_id
    a, b, _c = [await add_order(uows, account, n) for n in ("A", "B", "C")]
    await claim(uows, team["petya"], a)
    await claim(uows, team["vasya"], b)

    async def numbers(actor, tab, status=None):
        async with uows() as uow:
            page = await orders.list_orders(uow, actor, tab, status)
        return [r.number for r in page.rows]

    assert await numbers(team["petya"], OrderTab.MINE) == ["A"]
    assert await numbers(team["petya"], OrderTab.UNASSIGNED) == ["C"]
    assert await numbers(team["petya"], OrderTab.ALL) == ["C", "B", "A"]
    assert await numbers(team["admin"], OrderTab.ALL, OrderStatus.NEW) == ["C"]
    assert await numbers(team["admin"], OrderTab.ALL, OrderStatus.IN_PROGRESS) == ["B", "A"]
    assert await numbers(team["admin"], OrderTab.MINE) == []


async def test_keyset_queries_use_an_index(sqlite_engine, clock):
    """At a million orders a page must not scan or sort the table."""
    from sqlalchemy import event

    from core.db.engine import session_factory
    from core.db.uow import UnitOfWorkFactory
    from core.members.actor import Actor
    from core.members.permissions import BUILTIN_ROLES
    from tests.conftest import T0

    actor = Actor(1, 1, 1, "admin", BUILTIN_ROLES["admin"], "ru", "UTC")
    captured = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "FROM orders" in statement:
            captured.append((statement, parameters))

    event.listen(sqlite_engine.sync_engine, "before_cursor_execute", capture)
    uows = UnitOfWorkFactory(session_factory(sqlite_engine), clock)
    cursor = Cursor(T0, 5)
    for tab in OrderTab:
        async with uows() as uow:
            await orders.list_orders(uow, actor, tab)
            await orders.list_orders(uow, actor, tab, after=cursor)
            await orders.list_orders(uow, actor, tab, OrderStatus.NEW, before=cursor)
    event.remove(sqlite_engine.sync_engine, "before_cursor_execute", capture)
    assert len(captured) == 3 * len(OrderTab)
    async with sqlite_engine.connect() as conn:
        for statement, parameters in captured:
            plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            details = " | ".join(row[-1] for row in plan.all())
            assert "SCAN orders" not in details, details
            assert "TEMP B-TREE" not in details, details


# ---- claiming and assignment -----------------------------------------------------------------


async def test_claim_takes_into_work_and_loser_learns_holder(uows, team):
    order_id = await add_order(uows, team["owner"].account_id, "A")
    won = await claim(uows, team["petya"], order_id)
    assert won.won and won.holder == "@petya"
    lost = await claim(uows, team["vasya"], order_id)
    assert not lost.won and not lost.mine and lost.holder == "@petya"
    again = await claim(uows, team["petya"], order_id)
    assert not again.won and again.mine
    stored = await order_row(uows, order_id)
    assert (stored.status, stored.assignee_id) == ("in_progress", team["petya"].member_id)
    assert await order_actions(uows, order_id) == ["order.created", "order.claimed"]


async def test_the_first_claim_or_assignment_is_kept_as_claimed_at(uows, team, clock):
    claimed = await add_order(uows, team["owner"].account_id, "A")
    assigned = await add_order(uows, team["owner"].account_id, "B")
    first = clock.now()
    await claim(uows, team["petya"], claimed)
    async with uows() as uow:
        await orders.assign_order(uow, team["admin"], assigned, team["petya"].member_id)
    clock.advance(timedelta(minutes=10))
    async with uows() as uow:
        await orders.assign_order(uow, team["admin"], claimed, team["vasya"].member_id)
    async with uows() as uow:
        await orders.assign_order(uow, team["admin"], assigned, None)
    assert (await order_row(uows, claimed)).claimed_at == first
    assert (await order_row(uows, assigned)).claimed_at == first
    assert (await order_row(uows, claimed)).claim_wait_seconds is not None


async def test_blocked_member_cannot_claim(uows, team):
    order_id = await add_order(uows, team["owner"].account_id, "A")
    petya = team["petya"]  # resolved before the block, as a racing update would be
    async with uows() as uow:
        await members.block_member(uow, team["admin"], petya.member_id)
    with pytest.raises(PermissionDenied) as err:
        await claim(uows, petya, order_id)
    assert err.value.code == "blocked_cannot_claim"
    assert (await order_row(uows, order_id)).assignee_id is None
    assert await order_actions(uows, order_id) == ["order.created"]


async def test_closed_order_cannot_be_claimed(uows, team):
    order_id = await add_order(uows, team["owner"].account_id, "A")
    async with uows() as uow:
        await orders.change_status(uow, team["admin"], order_id, "cancelled", "duplicate")
    with pytest.raises(InvalidInput) as err:
        await claim(uows, team["petya"], order_id)
    assert err.value.code == "order_closed"


async def test_admin_assigns_reassigns_unassigns_with_recipients(uows, team):
    order_id = await add_order(uows, team["owner"].account_id, "A")
    admin, petya, vasya = team["admin"], team["petya"], team["vasya"]
    async with uows() as uow:
        first = await orders.assign_order(uow, admin, order_id, petya.member_id)
    assert first.previous is None and first.assignee.telegram_id == 3001
    async with uows() as uow:
        second = await orders.assign_order(uow, admin, order_id, vasya.member_id)
    assert (second.previous.telegram_id, second.assignee.telegram_id) == (3001, 3002)
    assert second.card.summary.assignee == "@vasya"
    async with uows() as uow:
        third = await orders.assign_order(uow, admin, order_id, None)
    assert third.previous.telegram_id == 3002 and third.assignee is None
    assert (await order_row(uows, order_id)).assignee_id is None
    async with uows() as uow:
        entries = list(
            await uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject_type == "order", AuditEntry.subject_id == order_id)
                .order_by(AuditEntry.id)
            )
        )
    assert [(e.action, e.before, e.after.get("assignee")) for e in entries[1:]] == [
        ("order.assigned", {"assignee": None}, "@petya"),
        ("order.assigned", {"assignee": "@petya"}, "@vasya"),
        ("order.unassigned", {"assignee": "@vasya"}, None),
    ]


async def test_bad_assignments_change_nothing(uows, team):
    order_id = await add_order(uows, team["owner"].account_id, "A")
    admin, petya = team["admin"], team["petya"]
    other = await new_account(uows, owner_tg=9000, name="Other")
    stranger = await join(uows, other, 9001)
    async with uows() as uow:
        await members.block_member(uow, admin, team["vasya"].member_id)
    cases = [
        (petya, petya.member_id, PermissionDenied, "permission_denied"),
        (admin, stranger.member_id, NotFound, "member_not_found"),
        (admin, team["vasya"].member_id, InvalidInput, "member_blocked"),
        (admin, None, InvalidInput, "order_unassigned"),
    ]
    for actor, target, error, code in cases:
        with pytest.raises(error) as err:
            async with uows() as uow:
                await orders.assign_order(uow, actor, order_id, target)
        assert err.value.code == code
    async with uows() as uow:
        await orders.assign_order(uow, admin, order_id, petya.member_id)
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await orders.assign_order(uow, admin, order_id, petya.member_id)
    assert err.value.code == "already_assignee"
    assert await order_actions(uows, order_id) == ["order.created", "order.assigned"]


# ---- status ----------------------------------------------------------------------------------


async def test_status_flow_and_reopen_by_admin_only(uows, team, clock):
    order_id = await add_order(uows, team["owner"].account_id, "A")
    petya, admin = team["petya"], team["admin"]
    await claim(uows, petya, order_id)
    clock.advance(timedelta(hours=2))
    async with uows() as uow:
        done = await orders.change_status(uow, petya, order_id, "completed")
    assert done.summary.status == OrderStatus.COMPLETED
    assert done.details.completed_at == clock.now()
    with pytest.raises(PermissionDenied) as err:
        async with uows() as uow:
            await orders.change_status(uow, petya, order_id, "in_progress")
    assert err.value.code == "reopen_admins_only"
    async with uows() as uow:
        reopened = await orders.change_status(uow, admin, order_id, "in_progress")
    assert reopened.summary.status == OrderStatus.IN_PROGRESS
    assert reopened.details.completed_at is None
    assert await order_actions(uows, order_id) == [
        "order.created",
        "order.claimed",
        "order.status_changed",
        "order.reopened",
    ]


async def test_bad_status_changes_change_nothing(uows, team):
    account = team["owner"].account_id
    order_id = await add_order(uows, account, "A")
    await claim(uows, team["petya"], order_id)
    cases = [
        (team["vasya"], "completed", PermissionDenied, "order_not_yours"),
        (team["petya"], "new", InvalidInput, "status_transition"),
        (team["petya"], "in_progress", InvalidInput, "status_transition"),
        (team["petya"], "shipped", InvalidInput, "order_status"),
    ]
    for actor, status, error, code in cases:
        with pytest.raises(error) as err:
            async with uows() as uow:
                await orders.change_status(uow, actor, order_id, status)
        assert err.value.code == code, status
    assert (await order_row(uows, order_id)).status == "in_progress"
    assert await order_actions(uows, order_id) == ["order.created", "order.claimed"]


# ---- the order log ---------------------------------------------------------------------------


async def test_order_log_own_for_managers_all_for_admins(uows, team):
    order_id = await add_order(uows, team["owner"].account_id, "A")
    await claim(uows, team["petya"], order_id)
    async with uows() as uow:
        log = await orders.order_log(uow, team["petya"], order_id)
    assert [r.action for r in log.rows] == ["order.claimed", "order.created"]
    assert log.rows[0].actor_name == "@petya" and log.rows[1].actor_name is None
    with pytest.raises(PermissionDenied) as err:
        async with uows() as uow:
            await orders.order_log(uow, team["vasya"], order_id)
    assert err.value.code == "order_log_denied"
    async with uows() as uow:
        assert len((await orders.order_log(uow, team["admin"], order_id)).rows) == 2


# ---- field rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kopecks"),
    [
        ("1500", 150_000),
        ("1500.5", 150_050),
        ("1 500,50", 150_050),
        (150_050, 150_050),
        (0, 0),
        ("12\u00a0500,50\u00a0₽", 12_500_50),
        ("12\u202f500.50", 12_500_50),
    ],
)
def test_amounts(value, kopecks):
    assert fields.amount(value, "total") == kopecks


@pytest.mark.parametrize("value", [1500.5, True, "1500.555", "-5", "abc", [], {}, -1, "1.500,50"])
def test_bad_amounts_name_the_field(value):
    with pytest.raises(InvalidInput) as err:
        fields.amount(value, "items[0].price")
    assert err.value.code == "field_amount"
    assert err.value.params["field"] == "items[0].price"


@pytest.mark.parametrize("value", [10**14, "100 000 000 001", "9" * 40])
def test_too_large_amounts_name_the_field_and_the_maximum(value):
    with pytest.raises(InvalidInput) as err:
        fields.amount(value, "total")
    assert err.value.code == "field_amount_too_large"
    assert err.value.params == {"field": "total", "maximum": fields.MAX_KOPECKS}


def test_an_ambiguous_amount_names_the_field_and_both_readings():
    with pytest.raises(InvalidInput) as err:
        fields.amount("1,500", "total")
    assert err.value.code == "field_amount_ambiguous"
    assert err.value.params["field"] == "total"
    assert (err.value.params["thousands"], err.value.params["decimal"]) == (1_500_00, 1_50)


@pytest.mark.parametrize(
    ("check", "value", "code"),
    [
        (fields.phone, "call me", "field_phone"),
        (fields.email, "not-an-email", "field_email"),
        (fields.number, "12 34", "field_number"),
        (fields.number, None, "field_required"),
        (fields.currency, "рубли", "field_too_long"),
        (fields.currency, "R1B", "field_currency"),
    ],
)
def test_bad_fields(check, value, code):
    with pytest.raises(InvalidInput) as err:
        check(value)
    assert err.value.code == code
