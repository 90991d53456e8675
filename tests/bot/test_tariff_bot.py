"""Tariff and seats through the bot: /tariff, /invoice, /prepay, /plan, the paid-seat question,
and the read-only state of a lapsed account."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bot.format import NBSP
from core.accounts.models import Account
from core.members.invites import accept_invite, create_invite
from core.members.models import Invite, Member, MemberStatus
from core.tariff.catalog import load_catalog
from tests.support.factories import actor_for

OWNER, ADMIN, PETYA, VASYA = 1000, 2000, 3001, 3002
LINK = re.compile(r"https://t\.me/shopdesk_test_bot\?start=(\S+)")


def plain(text: str) -> str:
    return text.replace(NBSP, " ")


async def account(uows) -> Account:
    async with uows() as uow:
        return (await uow.session.scalars(select(Account).order_by(Account.id))).first()


async def invites(uows) -> int:
    async with uows() as uow:
        return await uow.session.scalar(select(func.count()).select_from(Invite))


async def remove(client, who: str) -> None:
    admin = client(ADMIN)
    await admin.send(f"/remove {who}")
    await admin.click("Да, удалить")


async def prepay(client, line: str):
    """The one-line form, then ✅ Record on its confirmation (or the error it got)."""
    shown = await client.send(line)
    return await client.click("✅ Записать") if "✅ Записать" in shown.buttons else shown


async def pay_through_march(client) -> None:
    owner = client(OWNER)
    await prepay(owner, "/prepay 3 PAY-1")
    await prepay(owner, "/prepay 1 PAY-2")


async def test_tariff_shows_seats_cost_and_next_invoice(client, shop):
    reply = await client(OWNER).send("/tariff")
    text = plain(reply.text)
    assert "Тариф Стандартный</b>: 3 000,00 ₽ в месяц, бесплатных пользователей: 3" in text
    assert "Учтено пользователей: 4" in text
    assert "1 × 380,00 ₽ = 380,00 ₽ в месяц" in text
    assert "Следующий счёт за 1 месяц: 3 380,00 ₽" in text
    assert "ещё не оплачено" in text
    assert reply.buttons == ["🧾 1 мес.", "🧾 3 мес. −5 %", "🧾 6 мес. −10 %", "🧾 12 мес. −15 %"]
    # Admins may look; managers may not.
    assert "3 380,00 ₽" in plain((await client(ADMIN).send("/tariff")).text)
    assert "нет прав" in (await client(PETYA).send("/tariff")).text


async def test_blocked_members_count_and_removed_do_not(client, shop):
    await client(OWNER).send("/block @petya")
    assert "Учтено пользователей: 4" in (await client(OWNER).send("/tariff")).text
    await remove(client, "@petya")
    assert "Учтено пользователей: 3" in (await client(OWNER).send("/tariff")).text


async def test_invoice_worked_examples(client, shop, uows):
    owner = client(OWNER)
    one = plain((await owner.send("/invoice")).text)
    assert "Тариф Стандартный: 3 000,00 ₽ × 1 мес. = 3 000,00 ₽" in one
    assert "сверх лимита: 1 × 380,00 ₽ × 1 мес. = 380,00 ₽" in one
    assert "<b>Итого: 3 380,00 ₽</b>" in one and "Скидка" not in one
    assert "/prepay 1" in one
    await owner.send("/tariff")
    twelve = plain((await owner.click("12 мес.")).text)
    assert "Сумма без скидки: 40 560,00 ₽" in twelve
    assert "Скидка 15 %: −6 084,00 ₽" in twelve
    assert "Итого: 34 476,00 ₽" in twelve
    # Start, 3 months, 5 members: the third example.
    await owner.send("/plan start")
    await owner.click("Перейти на")
    owner_actor = await actor_for(uows, OWNER)
    async with uows() as uow:
        created = await create_invite(uow, owner_actor, None, ttl=timedelta(hours=1))
    assert created.seats.members_after == 5  # never paid: no question to ask
    await client(4444).send(f"/start {created.token}")
    start = plain((await owner.send("/invoice 3")).text)
    assert "Тариф Стартовый: 1 500,00 ₽ × 3 мес. = 4 500,00 ₽" in start
    assert "3 × 380,00 ₽ × 3 мес. = 3 420,00 ₽" in start
    assert "Сумма без скидки: 7 920,00 ₽" in start and "Скидка 5 %: −396,00 ₽" in start
    assert "Итого: 7 524,00 ₽" in start
    # An admin sees the invoice without the prepay hint.
    assert "/prepay" not in (await client(ADMIN).send("/invoice 6")).text


async def test_bad_invoice_periods_get_clear_replies(client, shop):
    owner = client(OWNER)
    assert "1, 3, 6, 12" in (await owner.send("/invoice 2")).text
    assert "Использование: /invoice" in (await owner.send("/invoice год")).text
    assert "нет прав" in (await client(VASYA).send("/invoice")).text


async def test_prepay_moves_the_date_and_a_reference_counts_once(client, shop, uows):
    owner = client(OWNER)
    confirm = plain((await owner.send("/prepay 3 ПП-117 от 20.11")).text)
    assert "Записать 3 мес., 9 633,00 ₽ (платёж ПП-117 от 20.11)?" in confirm
    assert "Оплачено до: — → 22.02.2027." in confirm
    assert (await account(uows)).paid_through is None  # nothing before Confirm
    reply = plain((await owner.click("✅ Записать")).text)
    # (3 000 + 380) × 3 = 10 140, −5 % (507) = 9 633
    assert "Оплата учтена: 3 мес., 9 633,00 ₽ (номер платежа: ПП-117 от 20.11)" in reply
    assert "Оплачено до: — → 22.02.2027" in reply
    again = plain((await prepay(owner, "/prepay 3 ПП-117 от 20.11")).text)
    assert "уже учтён" in again and "Ничего не изменилось; оплачено до 22.02.2027" in again
    assert (await account(uows)).paid_through == date(2027, 2, 22)
    status = (await owner.send("/tariff")).text
    assert "Оплачено до: 22.02.2027 (осталось дней: 92)" in status
    history = plain((await client(ADMIN).send("/history")).text)
    assert "подписка оплачена" in history
    assert "сумма: 9 633,00 ₽; период, мес.: 3; оплачено до: 22.02.2027" in history
    assert "None" not in history


async def test_prepay_refusals_change_nothing(client, shop, uows):
    assert "нет прав" in (await client(ADMIN).send("/prepay 1 X")).text
    owner = client(OWNER)
    assert "Использование: /prepay" in (await owner.send("/prepay много")).text
    assert "1, 3, 6, 12" in (await owner.send("/prepay 5 X")).text
    assert "не больше 100" in (await owner.send("/prepay 1 " + "x" * 101)).text
    # The dialog: a period, then the reference (required), then Cancel records nothing.
    asked = await owner.send("/prepay")
    assert asked.buttons == ["1 мес.", "3 мес.", "6 мес.", "12 мес.", "✖️ Отмена"]
    reference = await owner.click("12 мес.")
    assert "12 мес." in reference.text and "Номер платежа?" in reference.text
    assert "Номер платежа?" in (await owner.send("  ")).text
    confirm = await owner.send("PAY-9")
    assert "Оплачено до: — → 22.11.2027." in plain(confirm.text)
    assert (await owner.click("✖️ Отмена")).text == "Отменено: ничего не записано."
    assert (await account(uows)).paid_through is None


async def test_paid_seat_invite_asks_first_with_the_design_example(client, shop, uows):
    await remove(client, "@vasya")  # 3 members: the guide's worked example
    await pay_through_march(client)
    assert (await account(uows)).paid_through == date(2027, 3, 22)  # 120 days left
    admin = client(ADMIN)
    asked = await admin.send("/invite")
    text = plain(asked.text)
    assert "Это будет пользователь 4 при 3 бесплатных: +380,00 ₽ в месяц" in text
    assert "(3 000,00 ₽ → 3 380,00 ₽)" in text
    assert "Оплачено до: 22.03.2027 → 08.03.2027" in text
    assert asked.buttons == ["✅ Создать приглашение", "✖ Отмена"]
    assert await invites(uows) == 3  # the shop's three; asking created nothing
    created = await admin.click("Создать приглашение")
    token = LINK.search(created.text).group(1)
    assert (await account(uows)).paid_through == date(2027, 3, 22)
    greeting = await client(4444, first_name="Ольга", username="olga").send(f"/start {token}")
    assert "Ольга" in greeting.text
    assert (await account(uows)).paid_through == date(2027, 3, 8)
    history = plain((await admin.send("/history")).text)
    assert "изменились платные места" in history
    assert "оплачено до: 22.03.2027 → 08.03.2027" in history
    assert "стоимость в месяц: 3 000,00 ₽ → 3 380,00 ₽" in history
    # Removing the paid seat gives the days back: floor(106 × 3380 / 3000) = 119. The
    # confirmation says so before anything changes, and the result names the new date.
    asked = plain((await admin.send("/remove @olga")).text)
    assert "Оплачено до: 08.03.2027 → 21.03.2027." in asked
    assert (await account(uows)).paid_through == date(2027, 3, 8)
    removed = plain((await admin.click("Да, удалить")).text)
    assert "удалён" in removed and "Оплачено до: 08.03.2027 → 21.03.2027." in removed
    assert (await account(uows)).paid_through == date(2027, 3, 21)


async def test_cancel_creates_no_invite(client, shop, uows):
    await pay_through_march(client)
    admin = client(ADMIN)
    await admin.send("/invite manager")
    reply = await admin.click("Отмена")
    assert reply.text == "Приглашение не создано."
    assert await invites(uows) == 3


async def test_confirmation_is_rechecked_when_the_link_is_opened(client, shop, uows):
    await pay_through_march(client)
    admin = client(ADMIN)
    await admin.send("/invite")
    first = LINK.search((await admin.click("Создать приглашение")).text).group(1)
    await admin.send("/invite")
    second = LINK.search((await admin.click("Создать приглашение")).text).group(1)
    await client(4444).send(f"/start {first}")
    moved = (await account(uows)).paid_through
    refused = await client(4445).send(f"/start {second}")
    assert "нужно заново подтвердить" in refused.text
    assert (await account(uows)).paid_through == moved
    assert "Учтено пользователей: 5" in (await client(OWNER).send("/tariff")).text


async def test_a_stale_question_is_asked_again_with_the_new_numbers(client, shop, uows):
    await pay_through_march(client)
    admin = client(ADMIN)
    await admin.send("/invite")  # member 5 of 3
    # Meanwhile someone else fills that seat.
    admin_actor = await actor_for(uows, ADMIN)
    async with uows() as uow:
        other = await create_invite(
            uow, admin_actor, None, ttl=timedelta(hours=1), confirmed_cost=10**9
        )
    async with uows() as uow:
        await accept_invite(uow, other.token, telegram_id=4444, username=None, full_name="X")
    reply = await admin.click("Создать приглашение")
    assert "цифры изменились" in reply.alert
    assert "пользователь 6 при 3 бесплатных" in reply.text
    assert await invites(uows) == 4


async def test_plan_change_previews_then_converts_the_days(client, shop, uows):
    await pay_through_march(client)  # 4 members, 3 380 ₽/month, 120 days left
    owner = client(OWNER)
    listing = plain((await owner.send("/plan")).text)
    assert "business — Бизнес: 6 000,00 ₽ в месяц, бесплатных пользователей: 5" in listing
    preview = plain((await owner.send("/plan business")).text)
    assert "Сменить тариф Стандартный → Бизнес?" in preview
    assert "3 380,00 ₽ → 6 000,00 ₽ (бесплатных пользователей: 3 → 5)" in preview
    assert "Оплачено до: 22.03.2027 → 28.01.2027" in preview  # floor(120 × 3380 / 6000) = 67
    assert (await account(uows)).tariff_code == "standard"
    done = plain((await owner.click("Перейти на Бизнес")).text)
    assert "Тариф изменён: Бизнес." in done
    stored = await account(uows)
    assert (stored.tariff_code, stored.paid_through) == ("business", date(2027, 1, 28))
    assert "тариф изменён" in (await owner.send("/history")).text


async def test_plan_refusals(client, shop, uows):
    assert "только владелец" in (await client(ADMIN).send("/plan business")).text
    owner = client(OWNER)
    assert "Неизвестный тариф gold" in (await owner.send("/plan gold")).text
    assert "уже на тарифе standard" in (await owner.send("/plan standard")).text
    await owner.send("/plan premium")
    assert (await owner.click("Отмена")).text == "Тариф остаётся прежним."
    assert (await account(uows)).tariff_code == "standard"


async def test_lapsed_account_is_read_only_and_each_member_is_told_once(client, shop, uows, clock):
    owner, admin, petya = client(OWNER), client(ADMIN), client(PETYA, username="petya")
    await prepay(owner, "/prepay 1 PAY-1")  # through 22.12.2026
    clock.set(datetime(2026, 12, 23, 9, 0, tzinfo=UTC))
    first = await admin.send("/users")
    assert len(first.texts) == 2
    assert "закончился 22.12.2026" in first.texts[0] and "только для просмотра" in first.texts[0]
    assert "Участники" in first.texts[1]  # looking still works
    second = await admin.send("/users")
    assert len(second.texts) == 1 and "Участники" in second.text
    refused = await admin.send("/block @petya")
    assert "доступен только для просмотра" in refused.text
    assert (await actor_for(uows, PETYA)).member_id  # still active
    assert "только для просмотра" in (await admin.send("/invite")).text
    # Buttons are requests too: the card offers nothing, a forged press changes nothing.
    petya_id = (await actor_for(uows, PETYA)).member_id
    pressed = await admin.press(f"mb:block:{petya_id}:0")
    assert "только для просмотра" in pressed.alert
    async with uows() as uow:
        assert (await uow.session.get(Member, petya_id)).status == MemberStatus.ACTIVE
    told = await petya.send("/help")
    assert "пока владелец не продлит" in told.texts[0] and "Ваша роль" in told.texts[1]
    assert len((await petya.send("/help")).texts) == 1
    # The owner is told too, and can still pay.
    owner_first = await owner.send("/tariff")
    assert "посмотреть счёт (/invoice)" in owner_first.texts[0]
    assert "закончился 22.12.2026: до оплаты" in owner_first.texts[1]
    paid = plain((await prepay(owner, "/prepay 1 PAY-2")).text)
    assert "Оплачено до: 22.12.2026 → 23.01.2027" in paid
    assert "заблокирован" in (await admin.send("/block @petya")).text


async def test_a_lapsed_owner_is_told_one_thing_and_can_top_up(client, shop, uows, clock):
    """Read-only, but paying works: the notice says so and never that nothing can change."""
    owner = client(OWNER)
    await prepay(owner, "/prepay 1 PAY-1")  # through 22.12.2026
    clock.set(datetime(2026, 12, 23, 9, 0, tzinfo=UTC))
    first = await owner.send("/topup 500 PP-9")
    notice, confirm = first.texts
    assert "пополнить баланс (/topup)" in notice
    assert "ничего нельзя" not in notice and "не изменить" not in notice
    assert confirm.startswith("Зачислить 500,00")
    done = await owner.click("✅ Зачислить")
    assert "Зачислено 500,00" in done.text and "только для просмотра" not in done.text


async def test_nobody_joins_a_lapsed_account(client, shop, uows, clock):
    await prepay(client(OWNER), "/prepay 1 PAY-1")
    owner_actor = await actor_for(uows, OWNER)
    async with uows() as uow:
        created = await create_invite(
            uow, owner_actor, None, ttl=timedelta(days=60), confirmed_cost=10**9
        )
    clock.set(datetime(2026, 12, 23, 9, 0, tzinfo=UTC))
    reply = await client(4444).send(f"/start {created.token}")
    assert "не может принять новых пользователей" in reply.text


async def test_help_shows_billing_commands_by_role(client, shop):
    owner_help = (await client(OWNER).send("/help")).text
    admin_help = (await client(ADMIN).send("/help")).text
    manager_help = (await client(PETYA).send("/help")).text
    assert all(f"/{c}" in owner_help for c in ("tariff", "invoice", "prepay", "plan"))
    assert "/tariff" in admin_help and "/invoice" in admin_help
    assert "/prepay" not in admin_help and "/plan" not in admin_help
    assert "/tariff" not in manager_help


async def test_english_tariff_names_and_texts(client, shop):
    owner = client(OWNER)
    await owner.send("/lang en")
    text = plain((await owner.send("/invoice 12")).text)
    assert "Invoice: tariff Standard, 12 mo." in text
    assert "Discount 15 %: −6,084.00 ₽" in text and "Total: 34,476.00 ₽" in text


def test_catalog_is_the_one_the_app_uses(app):
    assert app.catalog is load_catalog(None)
    assert app.dp["catalog"] is app.catalog
