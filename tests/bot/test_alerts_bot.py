"""Alerts as members read them: every kind in Russian and English, who gets what, the buttons,
/alerts and /quiet."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

import pytest
from aiogram.methods import EditMessageText, SendMessage
from sqlalchemy import select, update

from bot.alerts.callbacks import TopUpCb
from bot.format import money
from bot.i18n import build_i18n
from bot.notifications.render import render, renderers
from bot.tariff.callbacks import InvoiceCb
from core.accounts.models import Account
from core.alerts.platform import reminder_params
from core.audit.models import AuditEntry
from core.jobs import run_all
from core.journal import service
from core.journal.models import ConnectedService
from core.members.models import Member
from core.notifications.limits import Limits, RateLimiter
from core.tariff.catalog import load_catalog
from core.tariff.pricing import invoice
from core.tariff.service import RenewalReminder
from tests.support.alerts import msk
from tests.support.journal import fund, order, set_up

M = money
CALLS = {"service_id": 7, "code": "call_tracking", "price": 1_490_00}
CHAT = {"service_id": 8, "code": "chat_widget", "price": 790_00}
WARNING = {"ends_on": "2026-12-22", "days_left": 3, "auto_renew": True}
LAPSED = {"charged": 0, "balance": 500_00, "lapsed_on": "2026-12-22", "return_by": "2027-01-04"}
LOW = {
    "keep": 990_00,
    "keep_code": "call_tracking",
    "keep_on": "2026-12-22",
    "balance": 500_00,
    "due": 2_280_00,
    "shortfall": 1_780_00,
    "days": 7,
    "short_on": "2026-12-22",
    "covered_until": "2026-12-21",
    "at_risk": [
        {**CALLS, "on": "2026-12-22", "overdue": False},
        {**CHAT, "on": "2026-12-19", "overdue": True},
    ],
    "more": 0,
}

CASES = [
    (
        "service.warning",
        {**CALLS, **WARNING, "balance": 500_00, "shortfall": 990_00},
        f"⚠️ Услуга <b>Коллтрекинг</b> продлевается 22.12.2026 (через 3 дня) за {M(1_490_00)}, "
        f"но баланса не хватает: на нём {M(500_00)}. Чтобы сохранить услугу «Коллтрекинг», "
        "пополните на "
        f"{M(990_00)}. Пополните баланс вовремя, иначе услуга будет приостановлена.",
        f"⚠️ <b>Call tracking</b> renews on 22.12.2026 (in 3 days) for {M(1_490_00)}, but the "
        f"balance does not cover it: it holds {M(500_00)}. To keep Call tracking, top up "
        f"{M(990_00)}. Top up in time, or the service will be suspended.",
        ["💳 Пополнить", "📋 Открыть журнал"],
    ),
    (
        # The case: a suspended service is due too; 70 ₽ keep this one.
        "service.warning",
        {
            **CHAT,
            **WARNING,
            "days_left": 1,
            "balance": 720_00,
            "shortfall": 70_00,
            "week": 3_070_00,
            "week_days": 7,
            "as_of": "23:10",
        },
        f"⚠️ Услуга <b>Онлайн-чат</b> продлевается завтра (22.12.2026) за {M(790_00)}, но баланса "
        f"не хватает: на нём {M(720_00)} (на 23:10). Чтобы сохранить услугу «Онлайн-чат», "
        "пополните на "
        f"{M(70_00)}. Пополните баланс вовремя, иначе услуга будет приостановлена.\n"
        f"Чтобы покрыть все продления ближайших 7 дней: {M(3_070_00)}.",
        f"⚠️ <b>Chat widget</b> renews tomorrow (22.12.2026) for {M(790_00)}, but the balance "
        f"does not cover it: it holds {M(720_00)} (at 23:10). To keep Chat widget, top up "
        f"{M(70_00)}. Top up in time, or the service will be suspended.\n"
        f"To cover every renewal of the next 7 days: {M(3_070_00)}.",
        ["💳 Пополнить", "📋 Открыть журнал"],
    ),
    (
        "service.warning",
        {**CALLS, **WARNING, "days_left": 1, "balance": 2_000_00, "shortfall": 0},
        f"🔔 Услуга <b>Коллтрекинг</b> продлится завтра (22.12.2026) за {M(1_490_00)}; баланса "
        f"хватает ({M(2_000_00)}).",
        f"🔔 <b>Call tracking</b> renews tomorrow (22.12.2026) for {M(1_490_00)}; the balance "
        f"covers it ({M(2_000_00)}).",
        ["📋 Открыть журнал"],
    ),
    (
        "service.warning",
        {**CHAT, **WARNING, "auto_renew": False, "balance": 0, "shortfall": 0},
        "⚠️ Услуга <b>Онлайн-чат</b> будет отключена 22.12.2026 (через 3 дня): автопродление "
        f"выключено. Включите его, чтобы сохранить услугу ({M(790_00)}).",
        "⚠️ <b>Chat widget</b> will be disconnected on 22.12.2026 (in 3 days): auto-renew is off. "
        f"Turn it on to keep the service ({M(790_00)}).",
        ["🔁 Включить автопродление", "📋 Открыть журнал"],
    ),
    (
        "service.suspended",
        {**CALLS, **LAPSED},
        f"🔴 Услуга <b>Коллтрекинг</b> приостановлена: баланса ({M(500_00)}) не хватило на "
        f"продление за {M(1_490_00)}. Она продлится сама, как только пополнение покроет цену, — "
        "до конца дня 04.01.2027; после этого она будет закрыта, а её ресурсы освобождены.",
        f"🔴 <b>Call tracking</b> is suspended: the balance ({M(500_00)}) did not cover its "
        f"renewal of {M(1_490_00)}. It renews by itself as soon as a top-up covers the price, "
        "until the end of 04.01.2027; after that it is closed and its resources are released.",
        ["💳 Пополнить", "📋 Открыть журнал"],
    ),
    (
        "service.disconnected",
        {**CHAT, **LAPSED},
        "⛔ Услуга <b>Онлайн-чат</b> отключена 22.12.2026: автопродление было выключено. Её можно "
        f"вернуть с теми же ресурсами до конца дня 04.01.2027 за {M(790_00)}.",
        "⛔ <b>Chat widget</b> was disconnected on 22.12.2026: auto-renew was off. It can be "
        f"returned with the same resources until the end of 04.01.2027, for {M(790_00)}.",
        ["🔎 Открыть услугу", "📋 Открыть журнал"],
    ),
    (
        "service.resumed",
        {**CALLS, "charged": 1_490_00, "balance": 10_00, "ends_on": "2027-01-23"},
        f"🟢 Услуга <b>Коллтрекинг</b> снова работает: продлена после пополнения за {M(1_490_00)}; "
        f"следующее продление — 23.01.2027. Баланс: {M(10_00)}.",
        f"🟢 <b>Call tracking</b> works again: renewed after the top-up for {M(1_490_00)}; the "
        f"next renewal is on 23.01.2027. Balance: {M(10_00)}.",
        ["📋 Открыть журнал"],
    ),
    (
        "service.returned",
        {**CHAT, "charged": 790_00, "balance": 210_00, "ends_on": "2027-02-03", "actor": "@admin"},
        f"↩️ @admin вернул(а) услугу <b>Онлайн-чат</b>: списано {M(790_00)}; следующее "
        f"продление — 03.02.2027. Баланс: {M(210_00)}.",
        f"↩️ @admin returned <b>Chat widget</b>: {M(790_00)} charged; the next renewal is on "
        f"03.02.2027. Balance: {M(210_00)}.",
        ["📋 Открыть журнал"],
    ),
    (
        "service.closed",
        {**CHAT, "charged": 0, "balance": 0, "released": 0},
        "✖️ Услуга <b>Онлайн-чат</b> закрыта: 14 дней на возврат прошли, её ресурсы освобождены. "
        "Её можно заказать заново из каталога.",
        "✖️ <b>Chat widget</b> is closed: the 14-day return window has passed and its resources "
        "were released. It can be ordered again from the catalog.",
        ["📋 Открыть журнал"],
    ),
    (
        "service.return_closing",
        {**CHAT, **LAPSED, "status": "disconnected", "days_left": 3, "balance": 10_00},
        "⏳ Услугу <b>Онлайн-чат</b> можно вернуть с теми же ресурсами только до конца дня "
        f"04.01.2027 (осталось дней: 3) за {M(790_00)}. После этого она будет закрыта, а её "
        "ресурсы освобождены.",
        "⏳ <b>Chat widget</b> can be returned with the same resources only until the end of "
        f"04.01.2027 (days left: 3), for {M(790_00)}. After that it is closed and its resources "
        "are released.",
        ["🔎 Открыть услугу", "💳 Пополнить"],
    ),
    (
        "balance.low",
        LOW,
        f"⚠️ <b>Баланс заканчивается.</b> На нём {M(500_00)}, а продления на ближайшие 7 дней "
        f"стоят {M(2_280_00)}. Чтобы покрыть все продления ближайших 7 дней: {M(1_780_00)}.\n"
        f"Чтобы сохранить услугу «Коллтрекинг» (22.12.2026): пополните на {M(990_00)}.\n"
        "Его хватит на продления до 21.12.2026 включительно.\n"
        "Под угрозой:\n"
        f"• Коллтрекинг — 22.12.2026, {M(1_490_00)}\n"
        f"• Онлайн-чат — приостановлена, {M(790_00)}",
        f"⚠️ <b>The balance is running low.</b> It holds {M(500_00)}; the renewals of the next 7 "
        f"days come to {M(2_280_00)}. To cover every renewal of the next 7 days: {M(1_780_00)}.\n"
        f"To keep Call tracking (22.12.2026): top up {M(990_00)}.\n"
        "It covers the renewals until 21.12.2026.\n"
        "At risk:\n"
        f"• Call tracking — 22.12.2026, {M(1_490_00)}\n"
        f"• Chat widget — suspended, {M(790_00)}",
        ["💳 Пополнить", "📋 Открыть журнал"],
    ),
    (
        "balance.low",
        {**LOW, "covered_until": None, "at_risk": LOW["at_risk"][1:], "more": 2, "keep": 0},
        f"⚠️ <b>Баланс заканчивается.</b> На нём {M(500_00)}, а продления на ближайшие 7 дней "
        f"стоят {M(2_280_00)}. Чтобы покрыть все продления ближайших 7 дней: {M(1_780_00)}.\n"
        "Его не хватает даже на продления, которые нужны сейчас.\n"
        "Под угрозой:\n"
        f"• Онлайн-чат — приостановлена, {M(790_00)}\n"
        "…и ещё 2.",
        f"⚠️ <b>The balance is running low.</b> It holds {M(500_00)}; the renewals of the next 7 "
        f"days come to {M(2_280_00)}. To cover every renewal of the next 7 days: {M(1_780_00)}.\n"
        "It does not cover the renewals due now.\n"
        "At risk:\n"
        f"• Chat widget — suspended, {M(790_00)}\n"
        "…and 2 more.",
        ["💳 Пополнить", "📋 Открыть журнал"],
    ),
]


def english(text: str) -> str:
    """The expected English text: amounts as English writes them (3,380.00 ₽, not 3 380,00 ₽)."""

    def amount(match: re.Match) -> str:
        return match[1].replace("\u00a0", ",") + "." + match[2] + "\u00a0₽"

    return re.sub(r"(\d{1,3}(?:\u00a0\d{3})*),(\d{2})\u00a0₽", amount, text)


def rendered(kind: str, params: dict, locale: str):
    i18n = build_i18n("ru")
    with i18n.context(), i18n.use_locale(locale):
        text, markup = render(kind, params, renderers())
    buttons = [b for row in markup.inline_keyboard for b in row] if markup else []
    return text, buttons


@pytest.mark.parametrize(("kind", "params", "ru", "en", "buttons"), CASES)
def test_every_alert_reads_right_in_both_languages(kind, params, ru, en, buttons):
    text, shown = rendered(kind, params, "ru")
    assert text == ru
    assert [b.text for b in shown] == buttons
    assert rendered(kind, params, "en")[0] == english(en)
    for button in shown:
        assert len(button.callback_data.encode()) <= 64


def test_top_up_buttons_suggest_the_shortfall():
    _, shown = rendered("service.warning", CASES[0][1], "ru")
    assert shown[0].callback_data == TopUpCb(amount=990_00).pack()


@pytest.mark.parametrize(
    ("days_left", "ru_head"),
    [
        (
            7,
            "⏰ Подписка ShopDesk оплачена до 29.11.2026 (осталось дней: 7). Продлите её "
            "вовремя, иначе аккаунт станет только для чтения для всех.",
        ),
        (
            0,
            "⏰ Сегодня, 29.11.2026, — последний оплаченный день подписки ShopDesk: с завтрашнего "
            "дня аккаунт будет только для чтения, пока подписку не оплатят.",
        ),
    ],
)
def test_the_subscription_reminder_carries_the_invoice(days_left, ru_head):
    catalog = load_catalog()
    bill = invoice(catalog, catalog.tariff("standard"), 4, 1)
    reminder = RenewalReminder(
        1, 1000, "ru", "Europe/Moscow", 7, days_left, date(2026, 11, 29), bill
    )
    params = reminder_params(reminder, catalog)
    text, shown = rendered("tariff.reminder", params, "ru")
    head, _, bill_text = text.partition("\n\n")
    assert head == ru_head
    assert bill_text.endswith(
        f"<b>Итого: {M(3_380_00)}</b>\nПосле оплаты отметьте её: /prepay 1 [номер платежа]"
    )
    assert [b.text for b in shown] == ["🧾 1 мес.", "🧾 3 мес.", "🧾 6 мес.", "🧾 12 мес."]
    assert shown[1].callback_data == InvoiceCb(months=3).pack()
    en, _ = rendered("tariff.reminder", params, "en")
    assert "Standard: " in en and english(f"<b>Total: {M(3_380_00)}</b>") in en


@pytest.fixture
def deliver(app):
    """One scheduler run and one drain of the outbox; what each chat received (the morning
    digest aside: tests/bot/test_digest_bot.py)."""
    app.sender.limiter = RateLimiter(Limits(per_second=1000, per_chat_per_second=1000))

    async def go() -> dict[int, list[SendMessage]]:
        start = len(app.bot.session.requests)
        await run_all(app.uows, app.jobs)
        await app.sender.drain()
        sent = defaultdict(list)
        for request in app.bot.session.requests[start:]:
            if isinstance(request, SendMessage) and not request.text.startswith("☀️ <b>"):
                sent[int(request.chat_id)].append(request)
        return dict(sent)

    return go


async def test_alerts_reach_owner_and_opted_in_admin_in_their_languages(
    app, client, shop, clock, deliver
):
    owner, uows = shop["owner"], app.uows
    admin = client(2000, username="admin")
    await admin.send("/lang en")
    assert (await admin.send("/alerts on")).text.startswith("🔔 Account alerts: on.")
    await fund(uows, owner, 1_490_00 + 790_00 + 500_00)
    calls = (await order(uows, owner, "call_tracking")).service.id
    await set_up(uows, owner, calls)
    chat = (await order(uows, owner, "chat_widget")).service.id
    assert await deliver() == {}  # switches the chat widget on; nothing to say yet
    async with uows() as uow:
        await service.set_auto_renew(uow, owner, chat, False)

    clock.set(msk(2026, 12, 19, 9))
    sent = await deliver()
    assert sorted(sent) == [1000, 2000]  # the managers hear nothing
    ru = [m.text.split("\n")[0] for m in sent[1000]]
    assert ru[0].startswith("⚠️ Услуга <b>Коллтрекинг</b> продлевается 22.12.2026 (через 3 дня)")
    assert ru[1].startswith("⚠️ Услуга <b>Онлайн-чат</b> будет отключена 22.12.2026")
    assert ru[2].startswith("⚠️ <b>Баланс заканчивается.</b>")
    assert [m.text.split(" ")[0] for m in sent[2000]] == ["⚠️", "⚠️", "⚠️"]
    assert sent[2000][0].text.startswith("⚠️ <b>Call tracking</b> renews on 22.12.2026")
    assert await deliver() == {}

    me = client(1000, username="owner")
    reply = await me.click("Пополнить")
    assert f"<b>Баланс: {M(500_00)}</b>" in reply.text
    assert reply.text.endswith("Чтобы записать поступивший платёж: /topup 990 [номер платежа]")
    reply = await admin.click("Top up")
    assert reply.text.endswith("Only the owner records payments: ask them to top up the balance.")
    reply = await me.click("Включить автопродление")
    assert reply.alert == "Автопродление включено."
    async with uows() as uow:
        assert (await uow.session.get(ConnectedService, chat)).auto_renew is True
    reply = await me.click("Открыть журнал")
    assert isinstance(reply.messages[-1], EditMessageText)
    assert reply.text.startswith("<b>Услуги</b> · баланс")

    clock.set(msk(2026, 12, 22, 9))
    sent = await deliver()
    assert [m.text.split(":")[0] for m in sent[1000]] == [
        "🔴 Услуга <b>Коллтрекинг</b> приостановлена",
        "🔴 Услуга <b>Онлайн-чат</b> приостановлена",
    ]
    clock.set(msk(2026, 12, 23, 10))
    await me.send("/topup 1000 PAY-1")
    reply = await me.click("✅ Зачислить")
    assert "Благодаря этому платежу продлены: Коллтрекинг." in reply.text
    sent = await deliver()
    assert list(sent) == [2000]  # the owner has just been told, directly
    assert sent[2000][0].text.startswith("🟢 <b>Call tracking</b> works again")


async def test_the_owner_gets_subscription_reminders_with_the_invoice(app, client, shop, deliver):
    async with app.uows() as uow:
        await uow.session.execute(
            update(Account)
            .where(Account.id == shop["owner"].account_id)
            .values(paid_through=date(2026, 11, 29))
        )
        await uow.session.execute(update(Member).values(alerts_opt_in=True))
        await uow.commit()
    sent = await deliver()
    assert list(sent) == [1000]
    (reminder,) = sent[1000]
    assert reminder.text.startswith(
        "⏰ Подписка ShopDesk оплачена до 29.11.2026 (осталось дней: 7)"
    )
    reply = await client(1000).click("🧾 12 мес.")
    assert f"<b>Итого: {M(34_476_00)}</b>" in reply.text  # Standard, 4 members, 12 months −15 %


async def test_alerts_and_quiet_commands(app, client, shop):
    admin, owner, manager = client(2000), client(1000), client(3001)
    reply = await admin.send("/alerts")
    assert reply.text.startswith("🔕 Уведомления аккаунта выключены.")
    assert "Тихие часы включены — с 22:00 до 08:00 (Europe/Moscow)" in reply.text
    reply = await admin.send("/alerts maybe")
    assert reply.text.endswith("(владелец получает их всегда).")
    reply = await admin.send("/alerts on")
    assert reply.text.startswith("🔔 Уведомления аккаунта включены. /alerts off — выключить.")
    assert (
        await owner.send("/alerts off")
    ).text == "Владелец получает уведомления аккаунта всегда."
    assert (await manager.send("/alerts on")).text == "У вас нет прав на это действие."
    assert (await admin.send("/quiet off")).text == "Это может только владелец аккаунта."
    reply = await owner.send("/quiet sometimes")
    assert "Использование: /quiet on|off" in reply.text
    reply = await owner.send("/quiet off")
    assert "Тихие часы выключены — уведомления приходят в любое время." in reply.text
    async with app.uows() as uow:
        account = await uow.session.get(Account, shop["owner"].account_id)
        admin_member = await uow.session.get(Member, shop["admin"].member_id)
        manager_member = await uow.session.get(Member, shop["m1"].member_id)
        actions = list(await uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert (account.quiet_hours, admin_member.alerts_opt_in) == (False, True)
    assert manager_member.alerts_opt_in is False
    assert actions[-2:] == ["member.alerts_changed", "account.quiet_hours_changed"]
    assert "/quiet" in (await owner.send("/help")).text
    assert "/alerts" not in (await manager.send("/help")).text
