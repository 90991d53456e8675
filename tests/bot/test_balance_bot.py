from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.alerts.render import rubles
from bot.format import money as printed
from core.journal.renewals import process_due_services
from core.ledger.service import MAX_TOP_UP
from core.money import parse_money, split_amount
from tests.support.journal import entries, money, order

OWNER, ADMIN, MANAGER = 1000, 2000, 3001


def plain(text: str) -> str:
    return text.replace("\u00a0", " ")


async def topup(client, line: str):
    """The one-line form, then ✅ Credit on its confirmation (or the error it got)."""
    shown = await client.send(line)
    if "✅ Зачислить" not in shown.buttons and "✅ Credit" not in shown.buttons:
        return shown
    return await client.click("✅ Зачислить" if "✅ Зачислить" in shown.buttons else "✅ Credit")


async def test_topup_credits_once_per_reference(client, shop, uows):
    owner = client(OWNER)
    first = await topup(owner, "/topup 5000 PP-1042")
    assert "Зачислено 5 000,00 ₽ (платёж PP-1042). Баланс: 5 000,00 ₽." in plain(first.text)
    again = await topup(owner, "/topup 5000 PP-1042")
    assert "уже учтён 22.11.2026 12:00 (5 000,00 ₽)" in plain(again.text)
    other_amount = await topup(owner, "/topup 7000 pp-1042")
    assert "уже учтён на сумму 5 000,00 ₽" in plain(other_amount.alert)
    assert await money(uows, shop["owner"].account_id) == (5_000_00, 5_000_00)


async def test_topup_dialog_asks_amount_then_reference_then_confirms(client, shop, uows):
    owner = client(OWNER)
    asked = await owner.send("/topup")
    assert "Какая сумма в рублях?" in asked.text and asked.buttons == ["✖️ Отмена"]
    unreadable = await owner.send("1,500")
    assert "можно прочитать двояко" in unreadable.text  # still asking for the amount
    reference = await owner.send("12 500,50")
    assert "12 500,50 ₽. Номер платежа?" in plain(reference.text)
    confirm = await owner.send("PP-7")
    assert plain(confirm.text).startswith("Зачислить 12 500,50 ₽ (платёж PP-7)?")
    assert "Баланс: 0,00 ₽ → 12 500,50 ₽." in plain(confirm.text)
    assert confirm.buttons == ["✅ Зачислить", "✖️ Отмена"]
    assert await entries(uows, shop["owner"].account_id) == []  # nothing before Confirm
    done = await owner.click("✅ Зачислить")
    assert "Зачислено 12 500,50 ₽ (платёж PP-7)" in plain(done.text)
    stale = await owner.press("tuf:ok")  # pressed again: credits nothing more
    assert "уже закрыто" in stale.text
    assert await money(uows, shop["owner"].account_id) == (12_500_50, 12_500_50)


async def test_topup_without_a_reference_asks_for_it_and_cancel_credits_nothing(
    client, shop, uows
):
    owner = client(OWNER)
    asked = await owner.send("/topup 1500,50")
    assert "1 500,50 ₽. Номер платежа?" in plain(asked.text)
    blank = await owner.send("   ")
    assert "Номер платежа?" in blank.text  # the reference is required
    cancelled = await owner.click("✖️ Отмена")
    assert cancelled.text == "Отменено: ничего не зачислено."
    assert await entries(uows, shop["owner"].account_id) == []


async def test_topup_needs_billing_manage_and_a_valid_amount(client, shop, uows):
    assert "нет прав" in (await client(ADMIN).send("/topup 100 X-1")).text
    assert "нет прав" in (await client(ADMIN).send("/topup")).text
    owner = client(OWNER)
    for bad in ("/topup abc", "/topup -5"):
        assert "Использование: /topup" in (await owner.send(bad)).text
    # 1.234 was "not an amount" (usage); now it is read as ambiguous and both readings are named
    assert "1 234,00 ₽ или 1,23 ₽" in plain((await owner.send("/topup 1.234")).text)
    assert "больше нуля" in (await owner.send("/topup 0 PP-1")).text
    too_long = await owner.send("/topup 10 " + "R" * 101)
    assert "не больше 100 символов" in too_long.text
    assert await entries(uows, shop["owner"].account_id) == []


async def test_amounts_are_read_as_the_bot_prints_them(client, shop, uows):
    owner = client(OWNER)
    first = await topup(owner, "/topup 12 500,50 PP-1042")
    assert "Зачислено 12 500,50 ₽ (платёж PP-1042)" in plain(first.text)
    # The same payment typed without spaces is the same payment: the reference guard holds.
    again = await topup(owner, "/topup 12500,50 PP-1042")
    assert "уже учтён" in again.text and "12 500,50 ₽" in plain(again.text)
    as_printed = await topup(owner, "/topup 12\u00a0500,50\u00a0₽ pp-1042")
    assert "уже учтён" in as_printed.text
    other = await topup(owner, "/topup 1 000,50 PP-2")
    assert "Зачислено 1 000,50 ₽ (платёж PP-2). Баланс: 13 501,00 ₽." in plain(other.text)
    assert await money(uows, shop["owner"].account_id) == (13_501_00, 13_501_00)
    (_, first_amount, first_key), (_, second_amount, _key) = await entries(
        uows, shop["owner"].account_id
    )
    assert (first_amount, first_key, second_amount) == (12_500_50, "topup:ref:pp-1042", 1_000_50)


async def test_unreadable_amounts_are_explained_and_credit_nothing(client, shop, uows):
    owner = client(OWNER)
    too_large = plain((await owner.send("/topup 50 000 000 PP-1")).text)
    assert "Сумма 50 000 000 слишком велика: не больше 10 000 000,00 ₽." in too_large
    huge = plain((await owner.send("/topup 99999999999999999999 PP-1")).text)
    assert "слишком велика" in huge and "Использование" not in huge
    ambiguous = plain((await owner.send("/topup 1,500 PP-1")).text)
    assert "1,500 можно прочитать двояко: 1 500,00 ₽ или 1,50 ₽" in ambiguous
    assert "Напишите 1500 в первом случае или 1,50 во втором" in ambiguous
    or_reference = plain((await owner.send("/topup 500 100")).text)
    assert "500 100 — это сумма 500 100,00 ₽ или 500,00 ₽ с номером платежа 100?" in or_reference
    assert "/topup 500100" in or_reference and "/topup 500,00 100" in or_reference
    mixed = plain((await owner.send("/topup 1.500,50 PP-1")).text)
    assert "Не удалось прочитать сумму 1.500,50" in mixed
    await owner.send("/lang en")
    english = plain((await owner.send("/topup 1,500 PP-1")).text)
    assert "1,500 can be read two ways: 1,500.00 ₽ or 1.50 ₽. Write 1500 for the first" in english
    assert "at most 10,000,000.00 ₽" in plain((await owner.send("/topup 50 000 000 X")).text)
    assert await entries(uows, shop["owner"].account_id) == []


@given(st.integers(min_value=1, max_value=MAX_TOP_UP))
def test_what_the_bot_prints_is_read_back_as_the_same_amount(kopecks):
    # Owners copy amounts from replies ("12 500,50 ₽") and from the alerts' /topup hint.
    assert parse_money(printed(kopecks), maximum=MAX_TOP_UP) == kopecks
    parsed = split_amount(f"{printed(kopecks)} PP-1042", maximum=MAX_TOP_UP)
    assert (parsed.amount, parsed.rest) == (kopecks, "PP-1042")
    assert split_amount(f"{rubles(kopecks)} PP-1", maximum=MAX_TOP_UP).amount == kopecks


async def test_balance_shows_renewals_runway_and_operations(client, shop, uows):
    await topup(client(OWNER), "/topup 6000 PP-1")
    for code in ("chat_widget", "callback_widget", "analytics_export"):
        await order(uows, shop["owner"], code)
    async with uows() as uow:
        await process_due_services(uow)
    manager = client(MANAGER)
    text = plain((await manager.send("/balance")).text)
    assert "<b>Баланс: 1 620,00 ₽</b>" in text
    assert "<b>Продления в ближайшие 30 дней</b>: 1 380,00 ₽" in text
    assert "22.12.2026 · Онлайн-чат · 790,00 ₽\n22.12.2026 · Обратный звонок · 590,00 ₽" in text
    assert "Баланса хватит на продления до 22.01.2027." in text
    assert "+6 000,00 ₽ · пополнение PP-1" in text
    assert "−3 000,00 ₽ · списание за заказ: Выгрузка аналитики" in text
    await order(uows, shop["owner"], "email_tracking")
    short = plain((await manager.send("/balance")).text)
    assert "Чтобы сохранить услугу «Обратный звонок» (22.12.2026): пополните на 450,00 ₽." in short
    await manager.send("/lang en")
    english = plain((await manager.send("/balance")).text)
    # English numbers: a comma groups thousands, a point starts the kopecks.
    assert "<b>Renewals in the next 30 days</b>: 1,380.00 ₽" in english
    assert "To keep Callback widget (22.12.2026): top up 450.00 ₽." in english
    assert "22.12.2026 · Chat widget · 790.00 ₽" in english
    assert "−690.00 ₽ · charge for an order: Email tracking" in english


async def test_help_lists_journal_commands_by_permission(client, shop):
    manager_help = (await client(MANAGER).send("/help")).text
    owner_help = (await client(OWNER).send("/help")).text
    assert "/services" in manager_help and "/balance" in manager_help
    assert "/topup" not in manager_help and "/topup" in owner_help


def test_ledger_lines_say_which_way_the_money_went():
    """A returned (brought back) service is a charge; a refund is money back."""
    from datetime import UTC, datetime

    from bot.balance.render import entry_line
    from bot.i18n import build_i18n
    from core.ledger.models import LedgerEntry

    at = datetime(2026, 11, 22, 9, tzinfo=UTC)
    back = LedgerEntry(reason="service.return", amount=-790_00, note="chat_widget", created_at=at)
    refund = LedgerEntry(reason="service.refund", amount=790_00, note="chat_widget", created_at=at)
    i18n = build_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):
        assert "−790,00 ₽ · списание за возобновление услуги: Онлайн-чат" in plain(
            entry_line(back, "Europe/Moscow")
        )
        assert "+790,00 ₽ · возврат денег на баланс: Онлайн-чат" in plain(
            entry_line(refund, "Europe/Moscow")
        )
    with i18n.context(), i18n.use_locale("en"):
        assert "charge for bringing a service back: Chat widget" in entry_line(back, "UTC")
