"""Alerts as messages, rendered at send time in the recipient's language, and /alerts, /quiet.

Params are the JSON the core wrote to the outbox: kopecks, ISO local days (already in the
account's zone), ids and catalog codes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.alerts.callbacks import TopUpCb
from bot.balance.render import week_cover
from bot.format import day, money, q
from bot.journal.callbacks import SvcCb, SvcOp
from bot.journal.render import locale, service_name
from bot.tariff import render as tariff_render
from bot.tariff.callbacks import InvoiceCb
from core.alerts.preferences import AlertSettings
from core.tariff.catalog import Tariff
from core.tariff.pricing import Invoice, InvoiceLine, LineKind

Params = dict[str, Any]
Rendered = tuple[str, InlineKeyboardMarkup | None]


def _day(iso: str) -> str:
    return day(date.fromisoformat(iso))


def _when(days: int, iso: str) -> str:
    if days <= 1:
        return _("tomorrow ({date})").format(date=_day(iso))
    return ngettext("on {date} (in {days} day)", "on {date} (in {days} days)", days).format(
        days=days, date=_day(iso)
    )


def rubles(kopecks: int) -> str:
    """An amount as /topup takes it: 770 or 770,50."""
    whole, kop = divmod(kopecks, 100)
    return f"{whole},{kop:02d}" if kop else str(whole)


def _keyboard(*buttons: tuple[str, CallbackData]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, data in buttons:
        builder.button(text=text, callback_data=data)
    builder.adjust(1)
    return builder.as_markup()


def _top_up(amount: int) -> tuple[str, CallbackData]:
    return _("💳 Top up"), TopUpCb(amount=max(0, amount))


def _journal() -> tuple[str, CallbackData]:
    return _("📋 Open journal"), SvcCb(op=SvcOp.LIST)


def _service(service_id: int) -> tuple[str, CallbackData]:
    return _("🔎 Open the service"), SvcCb(op=SvcOp.CARD, service_id=service_id)


def _auto_renew_on(service_id: int) -> tuple[str, CallbackData]:
    return _("🔁 Turn auto-renew on"), SvcCb(op=SvcOp.RENEW_ON, service_id=service_id)


def renewal_warning(p: Params) -> Rendered:
    values = {
        "name": service_name(p["code"]),
        "when": _when(p["days_left"], p["ends_on"]),
        "price": money(p["price"]),
        "balance": money(p["balance"]),
        "shortfall": money(p["shortfall"]),
        "as_of": _as_of(p),
    }
    sid = p["service_id"]
    if not p["auto_renew"]:
        text = _(
            "⚠️ <b>{name}</b> will be disconnected {when}: auto-renew is off. Turn it on to "
            "keep the service ({price})."
        )
        buttons = [_auto_renew_on(sid), _journal()]
    elif p["shortfall"] > 0:
        text = _(
            "⚠️ <b>{name}</b> renews {when} for {price}, but the balance does not cover it: it "
            "holds {balance}{as_of}. To keep {name}, top up {shortfall}. Top up in time, or the "
            "service will be suspended."
        )
        week = p.get("week", 0)
        if week > p["shortfall"]:
            text += "\n" + week_cover(p.get("week_days", 7), week)
        buttons = [_top_up(p["shortfall"]), _journal()]
    else:
        text = _(
            "🔔 <b>{name}</b> renews {when} for {price}; the balance covers it ({balance}{as_of})."
        )
        buttons = [_journal()]
    return text.format(**values), _keyboard(*buttons)


def suspended(p: Params) -> Rendered:
    text = _(
        "🔴 <b>{name}</b> is suspended: the balance ({balance}) did not cover its renewal of "
        "{price}. It renews by itself as soon as a top-up covers the price, until the end of "
        "{date}; after that it is closed and its resources are released."
    ).format(
        name=service_name(p["code"]),
        balance=money(p["balance"]),
        price=money(p["price"]),
        date=_day(p["return_by"]),
    )
    return text, _keyboard(_top_up(p["price"] - p["balance"]), _journal())


def disconnected(p: Params) -> Rendered:
    text = _(
        "⛔ <b>{name}</b> was disconnected on {date}: auto-renew was off. It can be returned "
        "with the same resources until the end of {return_by}, for {price}."
    ).format(
        name=service_name(p["code"]),
        date=_day(p["lapsed_on"]),
        return_by=_day(p["return_by"]),
        price=money(p["price"]),
    )
    return text, _keyboard(_service(p["service_id"]), _journal())


def resumed(p: Params) -> Rendered:
    text = _(
        "🟢 <b>{name}</b> works again: renewed after the top-up for {price}; the next renewal "
        "is on {date}. Balance: {balance}."
    ).format(
        name=service_name(p["code"]),
        price=money(p["price"]),
        date=_day(p["ends_on"]),
        balance=money(p["balance"]),
    )
    return text, _keyboard(_journal())


def returned(p: Params) -> Rendered:
    text = _(
        "↩️ {actor} returned <b>{name}</b>: {price} charged; the next renewal is on {date}. "
        "Balance: {balance}."
    ).format(
        actor=q(p.get("actor") or "—"),
        name=service_name(p["code"]),
        price=money(p["price"]),
        date=_day(p["ends_on"]),
        balance=money(p["balance"]),
    )
    return text, _keyboard(_journal())


def closed(p: Params) -> Rendered:
    text = _(
        "✖️ <b>{name}</b> is closed: the 14-day return window has passed and its resources "
        "were released. It can be ordered again from the catalog."
    ).format(name=service_name(p["code"]))
    return text, _keyboard(_journal())


def return_closing(p: Params) -> Rendered:
    text = _(
        "⏳ <b>{name}</b> can be returned with the same resources only until the end of {date} "
        "(days left: {days}), for {price}. After that it is closed and its resources are "
        "released."
    ).format(
        name=service_name(p["code"]),
        date=_day(p["return_by"]),
        days=p["days_left"],
        price=money(p["price"]),
    )
    buttons = [_service(p["service_id"])]
    if p["balance"] < p["price"]:
        buttons.append(_top_up(p["price"] - p["balance"]))
    return text, _keyboard(*buttons)


def _at_risk_line(r: Params) -> str:
    name = service_name(r["code"])
    if r["overdue"]:
        return _("• {name} — suspended, {price}").format(name=name, price=money(r["price"]))
    return f"• {name} — {_day(r['on'])}, {money(r['price'])}"


def _as_of(p: Params) -> str:
    """' (at 22:40)' when the figure was taken before quiet hours held the alert."""
    if not p.get("as_of"):
        return ""
    return " " + _("(at {time})").format(time=q(p["as_of"]))


def low_balance(p: Params) -> Rendered:
    lines = [
        ngettext(
            "⚠️ <b>The balance is running low.</b> It holds {balance}{as_of}; the renewals of "
            "the next {days} day come to {due}. To cover every renewal of the next {days} day: "
            "{shortfall}.",
            "⚠️ <b>The balance is running low.</b> It holds {balance}{as_of}; the renewals of "
            "the next {days} days come to {due}. To cover every renewal of the next {days} days: "
            "{shortfall}.",
            p["days"],
        ).format(
            balance=money(p["balance"]),
            as_of=_as_of(p),
            days=p["days"],
            due=money(p["due"]),
            shortfall=money(p["shortfall"]),
        )
    ]
    if p.get("keep") and p["keep"] < p["shortfall"]:
        lines.append(
            _("To keep {name} ({date}): top up {amount}.").format(
                name=service_name(p["keep_code"]),
                date=_day(p["keep_on"]),
                amount=money(p["keep"]),
            )
        )
    if p["covered_until"]:
        lines.append(
            _("It covers the renewals until {date}.").format(date=_day(p["covered_until"]))
        )
    else:
        lines.append(_("It does not cover the renewals due now."))
    lines.append(_("At risk:"))
    lines += [_at_risk_line(r) for r in p["at_risk"]]
    if p["more"]:
        lines.append(_("…and {count} more.").format(count=p["more"]))
    return "\n".join(lines), _keyboard(_top_up(p["shortfall"]), _journal())


def invoice_from(p: Params) -> Invoice:
    lines = tuple(
        InvoiceLine(
            LineKind(line["kind"]),
            line["quantity"],
            line["unit_price"],
            line["months"],
            line["amount"],
            line["discount"],
        )
        for line in p["lines"]
    )
    return Invoice(
        Tariff(**p["tariff"]), p["months"], p["members"], Decimal(p["discount_percent"]), lines
    )


def platform_reminder(p: Params) -> Rendered:
    if p["days_left"] > 0:
        head = _(
            "⏰ Your ShopDesk subscription is paid until {date} (days left: {days}). Renew it in "
            "time, or the account becomes read-only for everyone."
        ).format(date=_day(p["paid_through"]), days=p["days_left"])
    else:
        head = _(
            "⏰ Today, {date}, is the last paid day of your ShopDesk subscription: from tomorrow "
            "the account is read-only until it is paid."
        ).format(date=_day(p["paid_through"]))
    bill = tariff_render.invoice(invoice_from(p["invoice"]), locale(), can_pay=True)
    buttons = [
        (_("🧾 {months} mo.").format(months=months), InvoiceCb(months=months))
        for months in p["periods"]
    ]
    return f"{head}\n\n{bill}", _keyboard(*buttons)


def alert_renderers() -> dict[str, Callable[[Params], Rendered]]:
    return {
        "service.warning": renewal_warning,
        "service.suspended": suspended,
        "service.disconnected": disconnected,
        "service.resumed": resumed,
        "service.returned": returned,
        "service.closed": closed,
        "service.return_closing": return_closing,
        "balance.low": low_balance,
        "tariff.reminder": platform_reminder,
    }


def settings(view: AlertSettings) -> str:
    if view.is_owner:
        lines = [
            _(
                "🔔 As the owner you get every account alert: renewal warnings, low balance, "
                "suspended, returned and closed services, closing return windows and "
                "subscription reminders."
            )
        ]
    elif view.receives:
        lines = [_("🔔 Account alerts: on. /alerts off stops them.")]
    else:
        lines = [
            _(
                "🔕 Account alerts: off. /alerts on sends you renewal warnings, low-balance "
                "alerts and service notices."
            )
        ]
    if view.quiet_hours:
        lines.append(
            _(
                "Quiet hours: on — alerts are held between 22:00 and 08:00 ({zone}) and go out "
                "at 08:00."
            ).format(zone=q(view.timezone))
        )
    else:
        lines.append(_("Quiet hours: off — alerts go out at any hour."))
    if view.is_owner:
        lines.append(_("/quiet on or /quiet off changes it."))
    return "\n".join(lines)


def usage(command: str) -> str:
    texts = {
        "alerts": _(
            "Usage: /alerts on|off — account alerts for admins (the owner always gets them)."
        ),
        "quiet": _("Usage: /quiet on|off — hold alerts between 22:00 and 08:00 local time."),
    }
    return texts[command]


def top_up_hint(amount: int, can_pay: bool) -> str:
    if not can_pay:
        return _("Only the owner records payments: ask them to top up the balance.")
    if amount > 0:
        return _("To record a payment received: /topup {amount} [payment reference]").format(
            amount=rubles(amount)
        )
    return _("To record a payment received: /topup &lt;amount&gt; [payment reference]")
