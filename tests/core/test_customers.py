"""Issue #22, the customer's card: customers deduplicated at intake, their history and card, the
manual merge, the manager a repeat customer goes back to. Every test runs on SQLite and (with
TEST_POSTGRES_URL) on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.customers.history import previous_manager
from core.customers.keys import e164, email_key
from core.customers.models import Customer
from core.customers.service import customer_card, find_customers, merge_customers
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.orders import service as orders
from core.orders.models import Order
from core.orders.service import intake_order
from tests.support.factories import join, new_account
from tests.support.orders import add_order, new_order

# One person's phone as people and shops write it (the account reads numbers in Russia).
PHONE_FORMATS = ("+7 900 123-45-67", "89001234567", "8 (900) 123 45 67", "+79001234567")
E164 = "+79001234567"


async def customer_of(uows, order_id: int) -> Customer | None:
    async with uows() as uow:
        order = await uow.session.get(Order, order_id)
        if order.customer_id is None:
            return None
        return await uow.session.get(Customer, order.customer_id)


async def customers(uows, account_id: int) -> list[Customer]:
    async with uows() as uow:
        return list(
            await uow.session.scalars(
                select(Customer)
                .where(Customer.account_id == account_id, Customer.merged_into.is_(None))
                .order_by(Customer.id)
            )
        )


@pytest.mark.parametrize("written", PHONE_FORMATS)
def test_every_way_of_writing_the_phone_is_one_key(written):
    assert e164(written, "RU") == E164
    assert e164("12", "RU") is None
    assert e164(None, "RU") is None
    assert email_key("  Ivan@Example.COM ") == "ivan@example.com"
    assert email_key("not an email") is None


@pytest.mark.parametrize("first", PHONE_FORMATS)
@pytest.mark.parametrize("second", PHONE_FORMATS)
@pytest.mark.parametrize("email", [None, "ivan@example.com", " IVAN@example.com"])
async def test_one_phone_in_any_format_is_one_customer(uows, first, second, email):
    owner = await new_account(uows)
    one = await add_order(uows, owner.account_id, "1", customer_phone=first, customer_email=None)
    two = await add_order(uows, owner.account_id, "2", customer_phone=second, customer_email=email)
    found = await customers(uows, owner.account_id)
    assert len(found) == 1
    assert (await customer_of(uows, one)).id == (await customer_of(uows, two)).id == found[0].id
    assert found[0].phone == E164
    # The second order filled what the first one lacked.
    assert found[0].email == (email_key(email) if email else None)


async def test_the_email_finds_the_customer_when_there_is_no_phone(uows):
    owner = await new_account(uows)
    account = owner.account_id
    one = await add_order(uows, account, "1", customer_phone=None, customer_email="a@b.ru")
    two = await add_order(uows, account, "2", customer_phone="89001234567", customer_email="A@B.RU")
    other = await add_order(
        uows, account, "3", customer_phone="+7 901 000-00-00", customer_email=None
    )
    nobody = await add_order(uows, account, "4", customer_phone=None, customer_email=None)
    first, second = await customer_of(uows, one), await customer_of(uows, two)
    assert first.id == second.id
    assert (first.phone, first.email) == (E164, "a@b.ru")  # the phone was filled in
    assert (await customer_of(uows, other)).id != first.id
    # No phone, no email: a customer of their own, found by nothing.
    alone = await customer_of(uows, nobody)
    assert alone is not None and alone.id not in {first.id}
    assert (alone.phone, alone.email) == (None, None)


async def test_the_phone_wins_over_the_email_of_someone_else(uows):
    owner = await new_account(uows)
    account = owner.account_id
    anna = await add_order(
        uows, account, "1", customer_phone="+7 900 111-11-11", customer_email="a@x.ru"
    )
    boris = await add_order(
        uows, account, "2", customer_phone="+7 900 222-22-22", customer_email="b@x.ru"
    )
    # Boris's phone with Anna's email: Boris's order (each has a phone: no merge).
    mixed = await add_order(
        uows, account, "3", customer_phone="+79002222222", customer_email="a@x.ru"
    )
    assert (await customer_of(uows, mixed)).id == (await customer_of(uows, boris)).id
    assert (await customer_of(uows, anna)).email == "a@x.ru"
    assert len(await customers(uows, account)) == 2


async def test_an_order_with_both_keys_merges_the_two_records_of_one_person(uows):
    owner = await new_account(uows)
    account = owner.account_id
    by_phone = await add_order(
        uows, account, "1", customer_phone="89001234567", customer_email=None
    )
    by_mail = await add_order(uows, account, "2", customer_phone=None, customer_email="i@x.ru")
    assert (await customer_of(uows, by_phone)).id != (await customer_of(uows, by_mail)).id
    both = await add_order(uows, account, "3", customer_phone=E164, customer_email="i@x.ru")
    survivor = await customer_of(uows, by_phone)
    assert {(await customer_of(uows, o)).id for o in (by_phone, by_mail, both)} == {survivor.id}
    assert (survivor.phone, survivor.email) == (E164, "i@x.ru")
    assert len(await customers(uows, account)) == 1
    async with uows() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "customer.merged")
        )
    assert entry.subject_type == "customer" and entry.subject_id == survivor.id
    assert entry.actor_id is None  # the system joined them


async def test_concurrent_intakes_of_one_customer_create_one_record(uows):
    owner = await new_account(uows)

    async def deliver(n: int):
        phone = PHONE_FORMATS[n % len(PHONE_FORMATS)]
        async with uows() as uow:
            cmd = new_order(f"C{n}", customer_phone=phone, customer_email="same@x.ru")
            return await intake_order(uow, owner.account_id, cmd)

    results = await asyncio.gather(*(deliver(n) for n in range(16)))  # any error fails the test
    assert all(r.created for r in results)
    async with uows() as uow:
        linked = set(
            await uow.session.scalars(select(Order.customer_id).where(Order.number.like("C%")))
        )
        count = await uow.session.scalar(select(func.count()).select_from(Customer))
    assert count == 1
    assert len(linked) == 1 and None not in linked


@pytest.fixture
async def team(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, role="admin", username="adm")
    masha = await join(uows, owner, 3001, username="masha")
    dima = await join(uows, owner, 3002, username="dima")
    lena = await join(uows, owner, 3003, username="lena")
    account = owner.account_id
    ivan = dict(customer_name="Иван Петров", customer_phone="+7 900 123-45-67", customer_email=None)
    ids = [
        await add_order(uows, account, f"10{n}", total=100_000 * (n + 1), **ivan) for n in range(3)
    ]
    other = await add_order(
        uows,
        account,
        "200",
        customer_name="Ольга",
        customer_phone="+7 911 000-00-00",
        customer_email="olga@x.ru",
    )
    for order_id, member in ((ids[0], masha), (ids[1], dima), (ids[2], masha)):
        async with uows() as uow:
            await orders.assign_order(uow, owner, order_id, member.member_id)
    for order_id, member in ((ids[0], masha), (ids[1], dima)):
        for status in ("in_progress", "completed"):
            async with uows() as uow:
                await orders.change_status(uow, member, order_id, status)
    return {
        "owner": owner,
        "admin": admin,
        "masha": masha,
        "dima": dima,
        "lena": lena,
        "ids": ids,
        "other": other,
    }


async def test_the_order_card_carries_the_customers_history(uows, team):
    async with uows() as uow:
        card = await orders.order_card(uow, team["masha"], team["ids"][2])
    history = card.customer
    assert history.orders == 3
    assert history.spent == 100_000 + 200_000  # completed ones only
    assert history.usual_manager == "@masha"  # two of the three
    assert history.first_at <= history.last_at
    # A colleague's order shows no customer, so no history either.
    async with uows() as uow:
        brief = await orders.order_card(uow, team["masha"], team["ids"][1])
    assert brief.details is None and brief.customer is None


async def test_a_manager_sees_the_customer_of_their_order_and_colleagues_orders_in_brief(
    uows, team
):
    async with uows() as uow:
        ivan_id = (await uow.session.get(Order, team["ids"][0])).customer_id
        card = await customer_card(uow, team["masha"], ivan_id)
    assert (card.name, card.phone) == ("Иван Петров", E164)
    assert [o.id for o in card.orders] == list(reversed(team["ids"]))
    shown = {o.id: o.customer for o in card.orders}
    assert shown[team["ids"][0]] == "Иван Петров"  # her own: in full
    assert shown[team["ids"][1]] is None  # Dima's: in brief
    assert not card.may_merge
    # Lena never worked for Ivan: his contacts are not hers to see.
    async with uows() as uow:
        with pytest.raises(PermissionDenied):
            await customer_card(uow, team["lena"], ivan_id)
    async with uows() as uow:
        full = await customer_card(uow, team["admin"], ivan_id)
    assert full.may_merge and all(o.customer == "Иван Петров" for o in full.orders)


async def test_find_customers_by_phone_name_and_email_as_the_member_may_see(uows, team):
    async def found(actor, query):
        async with uows() as uow:
            return [r.name for r in await find_customers(uow, actor, query)]

    for query in ("8 900 123 45 67", "+79001234567", "900 123-45", "ив", "ИВАН", "петр"):
        assert await found(team["owner"], query) == ["Иван Петров"], query
    assert await found(team["masha"], "89001234567") == ["Иван Петров"]
    assert await found(team["lena"], "89001234567") == []
    assert await found(team["masha"], "Ольга") == []  # nobody's order yet: not hers
    assert await found(team["owner"], "Ольга") == ["Ольга"]
    await add_order(uows, team["owner"].account_id, "600", customer_phone=E164)  # brings the email
    assert await found(team["owner"], "IVAN@Example.com") == ["Иван Петров"]
    assert await found(team["owner"], "ivan@") == ["Иван Петров"]


async def test_only_admins_merge_and_the_merge_moves_orders_and_is_audited(uows, team):
    async with uows() as uow:
        ivan = (await uow.session.get(Order, team["ids"][0])).customer_id
        olga = (await uow.session.get(Order, team["other"])).customer_id
    async with uows() as uow:
        with pytest.raises(PermissionDenied):
            await merge_customers(uow, team["masha"], ivan, olga)
    async with uows() as uow:
        with pytest.raises(InvalidInput):
            await merge_customers(uow, team["admin"], ivan, ivan)
    async with uows() as uow:
        with pytest.raises(NotFound):
            await merge_customers(uow, team["admin"], ivan, 999_999)
    async with uows() as uow:
        card = await merge_customers(uow, team["admin"], ivan, olga)
    assert card.id == ivan and card.history.orders == 4
    assert team["other"] in {o.id for o in card.orders}
    async with uows() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "customer.merged")
        )
        gone = await uow.session.get(Customer, olga)
        # An old button of the merged record opens the one it was merged into.
        again = await customer_card(uow, team["admin"], olga)
    assert entry.actor_id == team["admin"].member_id and entry.subject_id == ivan
    assert gone.merged_into == ivan and gone.phone is None
    assert again.id == ivan
    # Ivan keeps his phone and takes the email he lacked: it finds him now.
    kept = await customer_of(uows, team["ids"][0])
    assert (kept.phone, kept.email) == (E164, "olga@x.ru")
    later = await add_order(
        uows, team["owner"].account_id, "300", customer_phone=None, customer_email="OLGA@x.ru"
    )
    assert (await customer_of(uows, later)).id == ivan


async def test_previous_manager_is_who_handled_the_customers_latest_order(uows, team, clock):
    clock.advance(timedelta(minutes=5))
    new = await add_order(uows, team["owner"].account_id, "500", customer_phone="89001234567")
    async with uows() as uow:
        order = await uow.session.get(Order, new)
        latest = await previous_manager(uow, order)
        first = await uow.session.get(Order, team["ids"][0])
        none_before = await previous_manager(uow, await uow.session.get(Order, team["other"]))
        assert latest.id == team["masha"].member_id  # №102, the newest handled one
        assert (await previous_manager(uow, first)).id == team["masha"].member_id
        # Leaving the order itself out: before №102 came Dima's №101.
        newest = await uow.session.get(Order, team["ids"][2])
        assert (await previous_manager(uow, newest)).id == team["dima"].member_id
    assert none_before is None


async def test_the_demo_has_repeat_customers_with_a_history(uows):
    from core.demo import ORDER_COUNT, ensure_demo

    demo = await ensure_demo(uows)
    async with uows() as uow:
        per_customer = dict(
            (
                await uow.session.execute(
                    select(Order.customer_id, func.count()).group_by(Order.customer_id)
                )
            ).all()
        )
    assert None not in per_customer and sum(per_customer.values()) == ORDER_COUNT
    repeat = [c for c, n in per_customer.items() if n > 1]
    assert len(repeat) >= 10
    async with uows() as uow:
        card = await customer_card(uow, demo.actors["owner"], repeat[0])
    assert card.history.orders == per_customer[repeat[0]] == len(card.orders)
    assert card.phone.startswith("+79")


async def test_a_store_changing_the_phone_moves_the_order_to_that_customer(uows):
    from core.orders.models import OrderSource
    from core.orders.sync import ExternalOrder, sync_order

    owner = await new_account(uows)
    account = owner.account_id
    anna = await add_order(
        uows, account, "1", customer_phone="+7 900 111-11-11", customer_email=None
    )
    cmd = new_order(
        "2", external_id="shop-2", customer_phone="+7 900 222-22-22", customer_email=None
    )
    async with uows() as uow:
        result = await sync_order(uow, account, ExternalOrder(cmd), OrderSource.TILDA)
        await uow.commit()
    moved = result.order.id
    wrong = (await customer_of(uows, moved)).id
    assert wrong != (await customer_of(uows, anna)).id
    # The shop corrects the phone: it was Anna's order.
    fixed = new_order("2", external_id="shop-2", customer_phone="89001111111", customer_email=None)
    async with uows() as uow:
        await sync_order(uow, account, ExternalOrder(fixed), OrderSource.TILDA)
        await uow.commit()
    assert (await customer_of(uows, moved)).id == (await customer_of(uows, anna)).id
    # The record the wrong phone made has no orders left: /find does not offer it.
    async with uows() as uow:
        assert [r.phone for r in await find_customers(uow, owner, "+7 900 222-22-22")] == []
        assert [r.orders for r in await find_customers(uow, owner, "+7 900 111-11-11")] == [2]


async def test_a_batch_of_orders_finds_its_own_new_customers(uows):
    """A CSV file's rows are resolved with one lookup: a later row finds the customer an
    earlier row created, a row with both keys joins two records made earlier in the file."""
    from core.accounts.models import Account
    from core.orders.models import OrderSource
    from core.orders.service import add_orders

    owner = await new_account(uows)
    rows = [
        ("1", "+7 900 123-45-67", None),
        ("2", None, "ivan@x.ru"),
        ("3", "89001234567", "IVAN@x.ru"),  # both: rows 1 and 2 are one person
        ("4", "8 (900) 123 45 67", None),
        ("5", "+7 901 000-00-00", None),
    ]
    cmds = [new_order(n, customer_phone=p, customer_email=e) for n, p, e in rows]
    async with uows() as uow:
        account = await uow.session.get(Account, owner.account_id)
        stored = await add_orders(uow, account, cmds, OrderSource.CSV, owner.member_id)
        await uow.commit()
    ids = [o.customer_id for o in stored]
    assert ids[0] == ids[1] == ids[2] == ids[3] != ids[4]
    [ivan, other] = await customers(uows, owner.account_id)
    assert (ivan.phone, ivan.email) == (E164, "ivan@x.ru")
    assert other.phone == "+79010000000"
