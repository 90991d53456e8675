"""Issue #21 through the bot: a stale Status button says why; /handover in one step."""

from __future__ import annotations

from core.members import service as members
from core.orders import service as orders
from tests.support.orders import add_order

OWNER, PETYA = 1000, 3001


async def test_a_stale_status_button_says_whose_order_it_is_now(client, shop, uows):
    order_id = await add_order(uows, shop["owner"].account_id, "A")
    async with uows() as uow:
        await orders.claim_order(uow, shop["m1"], order_id)
    petya = client(PETYA, username="petya")
    card = await petya.send("/order A")
    assert "🔁 Статус…" in card.buttons
    async with uows() as uow:
        await orders.assign_order(uow, shop["owner"], order_id, shop["m2"].member_id)
    stale = await petya.click("Статус")
    assert stale.alert == "Заказ №A теперь ведёт @vasya."
    assert "Новый статус" not in stale.text and "№A" in stale.text
    assert "🔁 Статус…" not in stale.buttons


async def test_handover_command_moves_a_blocked_members_work(client, shop, uows):
    account = shop["owner"].account_id
    ids = [await add_order(uows, account, n) for n in ("A", "B")]
    for order_id in ids:
        async with uows() as uow:
            await orders.claim_order(uow, shop["m1"], order_id)
    async with uows() as uow:
        await members.block_member(uow, shop["owner"], shop["m1"].member_id)
    owner = client(OWNER)
    assert (await owner.send("/handover @petya")).text.startswith("Как передать: /handover")
    done = await owner.send("/handover @petya @vasya")
    assert done.text == "✅ @petya → @vasya: передано 2 открытых заказа и 0 открытых задач."
    async with uows() as uow:
        cards = [await orders.order_card(uow, shop["owner"], i) for i in ids]
    assert {c.summary.assignee for c in cards} == {"@vasya"}
