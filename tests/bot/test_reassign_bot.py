"""Issue #21 through the bot: a stale Status button says why; /handover in one step; /transfer,
completing and cancelling ask first, cancelling asks why."""

from __future__ import annotations

from sqlalchemy import select

from core.members import service as members
from core.members.models import Member
from core.orders import service as orders
from core.orders.models import Order
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


async def test_transfer_asks_first_and_spells_out_the_consequence(client, shop, uows):
    owner = client(OWNER)
    ask = await owner.send("/transfer @petya")
    assert (
        "Сделать @petya владельцем аккаунта?" in ask.text and "станете администратором" in ask.text
    )
    assert ask.buttons == ["👑 Да, сделать владельцем", "✖ Отмена"]
    async with uows() as uow:
        petya = await uow.session.get(Member, shop["m1"].member_id)
        assert petya.role.code == "manager"  # nothing changed yet
    done = await owner.click("Да, сделать владельцем")
    assert done.text == "Теперь владелец — @petya; вы — администратор."
    async with uows() as uow:
        petya = await uow.session.get(Member, shop["m1"].member_id, populate_existing=True)
        assert petya.role.code == "owner"


async def test_completing_asks_and_cancelling_asks_why(client, shop, uows):
    ids = [await add_order(uows, shop["owner"].account_id, n) for n in ("A", "B", "C")]
    for order_id in ids:
        async with uows() as uow:
            await orders.claim_order(uow, shop["m1"], order_id)
    petya = client(PETYA, username="petya")
    await petya.send("/order A")
    await petya.click("Статус")
    ask = await petya.click("✅")
    assert ask.text.startswith("Завершить заказ №A?")
    assert ask.buttons == ["✅ Да, завершить", "« Назад"]
    done = await petya.click("Да, завершить")
    assert "✅" in done.text and "№A" in done.text
    await petya.send("/order B")
    await petya.click("Статус")
    why = await petya.click("❌")
    assert why.text.startswith("Отменить заказ №B?")
    assert "Нет в наличии" in why.buttons and "✍️ Другая причина…" in why.buttons
    await petya.click("Нет в наличии")
    await petya.send("/order C")
    await petya.click("Статус")
    await petya.click("❌")
    await petya.click("Другая причина")
    await petya.send("Покупатель нашёл дешевле")
    async with uows() as uow:
        stored = {o.number: o for o in await uow.session.scalars(select(Order))}
    assert stored["A"].status == "completed"
    assert (stored["B"].status, stored["B"].cancel_reason) == ("cancelled", "out_of_stock")
    assert (stored["C"].status, stored["C"].cancel_reason) == (
        "cancelled",
        "Покупатель нашёл дешевле",
    )
    owner = client(OWNER)
    await owner.send("/order B")
    log = await owner.click("📜")
    assert "Причина: Нет в наличии" in log.text


async def test_a_blocked_members_card_hands_their_work_over(client, shop, uows):
    order_id = await add_order(uows, shop["owner"].account_id, "A")
    async with uows() as uow:
        await orders.claim_order(uow, shop["m1"], order_id)
    admin = client(2000, username="admin")
    await admin.send("/users")
    await admin.click("@petya")
    await admin.click("Заблок")
    card = await admin.send("/users")
    card = await admin.click("@petya")
    assert "📦 Передать работу…" in card.buttons
    picker = await admin.click("Передать работу")
    assert picker.text == "Кому передать открытые заказы и задачи @petya?"
    assert "@petya" not in picker.buttons and "@vasya" in picker.buttons
    done = await admin.click("@vasya")
    assert done.text.startswith("✅ @petya → @vasya: передано 1 открытый заказ")
    async with uows() as uow:
        assert (await orders.order_card(uow, shop["owner"], order_id)).summary.assignee == "@vasya"


async def test_stale_confirm_and_reason_buttons_say_whose_order_it_is_now(client, shop, uows):
    order_id = await add_order(uows, shop["owner"].account_id, "A")
    async with uows() as uow:
        await orders.claim_order(uow, shop["m1"], order_id)
    petya = client(PETYA, username="petya")
    await petya.send("/order A")
    await petya.click("Статус")
    await petya.click("выполнен")
    confirm_at, confirm = petya.find_button("Да, завершить")
    await petya.send("/order A")
    await petya.click("Статус")
    await petya.click("отменён")
    reason_at, reason = petya.find_button("Нет в наличии")
    async with uows() as uow:
        await orders.assign_order(uow, shop["owner"], order_id, shop["m2"].member_id)
    for message_id, data in ((confirm_at, confirm), (reason_at, reason)):
        stale = await petya.press(data, message_id=message_id)
        assert stale.alert == "Заказ №A теперь ведёт @vasya."
        assert "№A" in stale.text and "Исполнитель: @vasya" in stale.text
    async with uows() as uow:
        assert (await uow.session.get(Order, order_id)).status == "in_progress"
    await petya.send("/lang en")
    await petya.send("/order A")
    stale = await petya.press(confirm, message_id=confirm_at)
    assert stale.alert == "Order №A is now @vasya's."


async def test_a_stale_task_button_says_whose_task_it_is_now(client, shop, uows):
    from core.tasks import service as tasks

    order_id = await add_order(uows, shop["owner"].account_id, "A")
    async with uows() as uow:
        await orders.claim_order(uow, shop["m1"], order_id)
    async with uows() as uow:
        task = await tasks.add_task(
            uow, shop["admin"], order_id, "Позвонить", None, shop["m1"].member_id
        )
    petya = client(PETYA, username="petya")
    listed = await petya.send("/tasks")
    assert "Позвонить" in listed.text and task.id
    message_id, done = petya.find_button("Готово")
    async with uows() as uow:  # the task moves with its order
        await orders.assign_order(uow, shop["owner"], order_id, shop["m2"].member_id)
    stale = await petya.press(done, message_id=message_id)
    assert stale.alert.startswith("Эта задача теперь у @vasya:")
    await petya.send("/lang en")
    stale = await petya.press(done, message_id=message_id)
    assert stale.alert.startswith("This task is now @vasya's:")
