"""Texts and keyboards of /services: the journal, service cards, the catalog and confirmations."""

from __future__ import annotations

from datetime import date

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.audit.render import row as audit_row
from bot.format import day, money, q, when
from bot.journal.callbacks import CatalogCb, CatalogOp, SvcCb, SvcOp
from core.audit.service import HistoryRow
from core.journal.catalog import CatalogItem, default_catalog
from core.journal.forecast import Color, Impact
from core.journal.models import LAPSED, PENDING, ServiceStatus
from core.journal.service import CardAction, Journal, Outcome, Quote, ServiceCard, ServiceRow

MAX_ROWS = 25  # keeps the journal under Telegram's 4096 characters

COLORS = {Color.GREEN: "🟢", Color.YELLOW: "🟡", Color.RED: "🔴"}
WONT_RENEW = "❗"  # marks an end date the service will not renew at
STATUS_NAMES = {
    ServiceStatus.ORDERED: __("ordered"),
    ServiceStatus.NEEDS_SETUP: __("needs setup"),
    ServiceStatus.ACTIVE: __("working"),
    ServiceStatus.SUSPENDED: __("suspended"),
    ServiceStatus.DISCONNECTED: __("disconnected"),
    ServiceStatus.CLOSED: __("closed"),
}
CHANNEL_NAMES = {
    "calls": __("calls"),
    "chat": __("chat"),
    "forms": __("forms"),
    "email": __("email"),
    "analytics": __("analytics"),
}
RESOURCE_NAMES = {"tracking_number": __("tracking numbers")}


def locale() -> str:
    return get_i18n().current_locale


def item_name(item: CatalogItem | None, code: str) -> str:
    return q(item.name(locale()) if item is not None else code)


def service_name(code: str) -> str:
    return item_name(default_catalog().get(code), code)


def status_name(status: str) -> str:
    name = STATUS_NAMES.get(status)
    return str(name) if name is not None else status


def channel_name(channel: str) -> str:
    name = CHANNEL_NAMES.get(channel)
    return str(name) if name is not None else q(channel)


def price(kopecks: int, months: int) -> str:
    if months == 1:
        return _("{price} / month").format(price=money(kopecks))
    return _("{price} / {months} months").format(price=money(kopecks), months=months)


def auto_renew_mark(on: bool) -> str:
    return "✓" if on else "✗"


def _when_on(value: date | None) -> str:
    return day(value) if value else "—"


def _period(row: ServiceRow) -> str:
    s = row.service
    end = _when_on(s.ends_on if s.status not in LAPSED else s.lapsed_on)
    if row.end_marked:
        end = WONT_RENEW + end
    return f"{_when_on(s.started_on)} → {end}"


def _title(row: ServiceRow) -> str:
    return f"{COLORS[row.color]} <b>{item_name(row.item, row.service.catalog_code)}</b>"


def journal_row(row: ServiceRow) -> str:
    s = row.service
    details = " · ".join(
        [
            status_name(s.status),
            _period(row),
            price(s.price, s.period_months),
            _("auto-renew {mark}").format(mark=auto_renew_mark(s.auto_renew)),
        ]
    )
    return f"{_title(row)} · {channel_name(s.channel)}\n    {details}"


def legend() -> str:
    return _(
        "🟢 working · 🟡 ordered or needs setup · 🔴 not working, or about to stop for lack of "
        "money · ❗ before an end date: it will not renew then"
    )


def _back_to_journal(builder: InlineKeyboardBuilder) -> None:
    builder.button(text=_("« Services"), callback_data=SvcCb(op=SvcOp.LIST))


def journal(view: Journal) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [_("<b>Services</b> · balance {balance}").format(balance=money(view.balance)), ""]
    builder = InlineKeyboardBuilder()
    if not view.rows:
        lines.append(_("No services connected yet."))
    for row in view.rows[:MAX_ROWS]:
        lines.append(journal_row(row))
        label = f"{COLORS[row.color]} {item_name(row.item, row.service.catalog_code)}"
        builder.button(
            text=label[:64], callback_data=SvcCb(op=SvcOp.CARD, service_id=row.service.id)
        )
    if len(view.rows) > MAX_ROWS:
        lines.append(_("…and {count} more.").format(count=len(view.rows) - MAX_ROWS))
    if view.rows:
        lines += ["", legend()]
    if view.can_order:
        builder.button(text=_("➕ Order a service"), callback_data=CatalogCb(op=CatalogOp.LIST))
    builder.adjust(1)
    markup = builder.as_markup() if view.rows or view.can_order else None
    return "\n".join(lines), markup


def _card_notes(card: ServiceCard, timezone: str) -> list[str]:
    row, s = card.row, card.row.service
    notes = []
    if s.status == ServiceStatus.NEEDS_SETUP:
        notes.append(_("Paid. An admin marks it set up when it works; the period starts then."))
    elif s.status == ServiceStatus.ORDERED:
        notes.append(_("Paid. It is switched on shortly; the period starts then."))
    elif s.status == ServiceStatus.ACTIVE and not s.auto_renew:
        notes.append(
            _("❗ Auto-renew is off: the service will be disconnected on {date}.").format(
                date=day(s.ends_on)
            )
        )
    elif s.status == ServiceStatus.ACTIVE and row.end_marked:
        notes.append(
            _("❗ The balance will not cover the renewal on {date}: top it up in time.").format(
                date=day(s.ends_on)
            )
        )
    if card.return_deadline is not None and row.return_days_left > 0:
        notes.append(
            _(
                "It can be returned with the same resources until {deadline} "
                "(days left: {days}) for {price}; a new period starts on the day of return."
            ).format(
                deadline=when(card.return_deadline, timezone),
                days=row.return_days_left,
                price=money(s.price),
            )
        )
    if s.status == ServiceStatus.SUSPENDED and s.auto_renew and row.return_days_left > 0:
        notes.append(_("It renews by itself as soon as the balance covers the price."))
    return notes


def card_text(card: ServiceCard, timezone: str) -> str:
    row, s = card.row, card.row.service
    lines = [
        _title(row),
        _("Channel: {channel}").format(channel=channel_name(s.channel)),
        _("Status: {status}").format(status=status_name(s.status)),
        _("Period: {period}").format(period=_period(row)),
        _("Price: {price}").format(price=price(s.price, s.period_months)),
        _("Auto-renew: {mark}").format(mark=auto_renew_mark(s.auto_renew)),
    ]
    if row.resources:
        lines.append(_("Numbers: {numbers}").format(numbers=", ".join(map(q, row.resources))))
    notes = _card_notes(card, timezone)
    return "\n".join(lines + (["", *notes] if notes else []))


def _action_button(builder: InlineKeyboardBuilder, action: CardAction, row: ServiceRow) -> None:
    sid = row.service.id
    labels = {
        CardAction.AUTO_RENEW_ON: (_("🔁 Turn auto-renew on"), SvcOp.RENEW_ON),
        CardAction.AUTO_RENEW_OFF: (_("⏸ Turn auto-renew off"), SvcOp.RENEW_OFF),
        CardAction.RETURN: (
            _("↩️ Return (days left: {days})").format(days=row.return_days_left),
            SvcOp.RETURN,
        ),
        CardAction.DISCONNECT: (_("⛔ Disconnect"), SvcOp.DISCONNECT),
        CardAction.MARK_SET_UP: (_("✅ Mark set up"), SvcOp.SET_UP),
        CardAction.LOG: (_("📜 Log"), SvcOp.LOG),
    }
    text, op = labels[action]
    builder.button(text=text, callback_data=SvcCb(op=op, service_id=sid))


def card(view: ServiceCard, timezone: str) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for action in view.actions:
        _action_button(builder, action, view.row)
    _back_to_journal(builder)
    builder.adjust(1)
    return card_text(view, timezone), builder.as_markup()


def log(service_id: int, rows: list[HistoryRow], timezone: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Service log</b>, newest first")]
    lines += [audit_row(entry, timezone) for entry in rows] or [_("Nothing here yet.")]
    builder = InlineKeyboardBuilder()
    builder.button(text=_("« Back"), callback_data=SvcCb(op=SvcOp.CARD, service_id=service_id))
    return "\n".join(lines), builder.as_markup()


def _short(balance: int, price_: int) -> str:
    return _(
        "Not enough money: the balance holds {balance}, this costs {price} — short by "
        "{shortfall}. The owner can top it up with /topup &lt;amount&gt; [reference]."
    ).format(balance=money(balance), price=money(price_), shortfall=money(price_ - balance))


def _balance_after(balance: int, charge: int) -> str:
    return _("Balance now: {balance} → after the charge: {after}.").format(
        balance=money(balance), after=money(balance - charge)
    )


def _reach(short_on: date | None) -> str:
    if short_on is None:
        return _("every renewal of the next 12 months")
    return _("renewals until {date}").format(date=day(short_on))


def impact_lines(impact: Impact, setup_needed: bool = False) -> list[str]:
    """What the charge does to the renewals ahead, before it is confirmed."""
    lines = [_balance_after(impact.balance, impact.balance - impact.after)]
    if impact.period_ends is not None and impact.auto_renew:
        lines.append(_("It renews on {date}.").format(date=day(impact.period_ends)))
    elif impact.period_ends is not None:
        lines.append(
            _("Auto-renew is off: it ends on {date}.").format(date=day(impact.period_ends))
        )
    elif setup_needed:
        lines.append(_("Its period starts once it is set up; it renews a period after that."))
    if impact.covered_after != impact.covered_before:
        lines.append(
            _("The balance will cover {after} (now: {before}).").format(
                after=_reach(impact.covered_after), before=_reach(impact.covered_before)
            )
        )
    else:
        lines.append(
            _("The balance still covers {reach}.").format(reach=_reach(impact.covered_after))
        )
    if impact.newly_short:
        lines.append(_("⚠️ After this charge the balance will not cover:"))
        lines += [
            _("• {date}: {name}, {price}").format(
                date=day(r.on), name=service_name(r.catalog_code), price=money(r.price)
            )
            for r in impact.newly_short
        ]
    return lines


def catalog(items: tuple[CatalogItem, ...], balance: int) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Order a service</b> · balance {balance}").format(balance=money(balance)), ""]
    builder = InlineKeyboardBuilder()
    for item in items:
        extras = [channel_name(item.channel), price(item.price, item.period_months)]
        if item.setup_needed:
            extras.append(_("needs setup"))
        lines.append(f"• <b>{item_name(item, item.code)}</b> · " + " · ".join(extras))
        label = f"{item.name(locale())} — {money(item.price)}"
        builder.button(text=label[:64], callback_data=CatalogCb(op=CatalogOp.PICK, code=item.code))
    _back_to_journal(builder)
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def quote(view: Quote, nonce: str) -> tuple[str, InlineKeyboardMarkup]:
    item = view.item
    lines = [
        f"<b>{item_name(item, item.code)}</b> · {channel_name(item.channel)}",
        _("Price: {price}; the first period is charged now.").format(
            price=price(item.price, item.period_months)
        ),
    ]
    for kind, count in item.resources.items():
        name = RESOURCE_NAMES.get(kind)
        lines.append(
            _("Holds {resource}: {count} (kept while connected).").format(
                count=count, resource=str(name) if name is not None else q(kind)
            )
        )
    if item.setup_needed:
        lines.append(_("Needs setup: the period starts when an admin marks it set up."))
    builder = InlineKeyboardBuilder()
    if view.shortfall:
        lines += ["", _short(view.balance, item.price)]
    else:
        lines += ["", *impact_lines(view.impact, item.setup_needed)]
        builder.button(
            text=_("✅ Order for {price}").format(price=money(item.price)),
            callback_data=CatalogCb(op=CatalogOp.BUY, code=item.code, nonce=nonce),
        )
    builder.button(text=_("« Catalog"), callback_data=CatalogCb(op=CatalogOp.LIST))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def ordered(outcome: Outcome) -> str:
    if outcome.replayed:
        return _("This order was already placed; nothing was charged again.")
    return _("Ordered: {amount} charged, balance {balance}.").format(
        amount=money(outcome.amount), balance=money(outcome.balance)
    )


def return_confirm(view: ServiceCard) -> tuple[str, InlineKeyboardMarkup]:
    s = view.row.service
    name = item_name(view.row.item, s.catalog_code)
    lines = [
        _("Return {name} with the same resources? A new period starts today.").format(name=name)
    ]
    builder = InlineKeyboardBuilder()
    if view.balance < s.price:
        lines.append(_short(view.balance, s.price))
    else:
        lines += (
            impact_lines(view.impact) if view.impact else [_balance_after(view.balance, s.price)]
        )
        builder.button(
            text=_("↩️ Return for {price}").format(price=money(s.price)),
            callback_data=SvcCb(op=SvcOp.RETURN_YES, service_id=s.id, version=s.version),
        )
    builder.button(text=_("« Back"), callback_data=SvcCb(op=SvcOp.CARD, service_id=s.id))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def disconnect_confirm(view: ServiceCard, refund: int) -> tuple[str, InlineKeyboardMarkup]:
    s = view.row.service
    name = item_name(view.row.item, s.catalog_code)
    if s.status in PENDING:
        text = _("Cancel the order of {name}? {refund} goes back to the balance.")
    elif s.status == ServiceStatus.ACTIVE:
        text = _(
            "Disconnect {name} now? The unused days go back to the balance: {refund}. It can be "
            "returned with the same resources within 14 days, for the full price."
        )
    else:
        text = _("Disconnect {name}? It can still be returned until the window closes.")
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⛔ Yes, disconnect"),
        callback_data=SvcCb(op=SvcOp.DISCONNECT_YES, service_id=s.id, version=s.version),
    )
    builder.button(text=_("« Back"), callback_data=SvcCb(op=SvcOp.CARD, service_id=s.id))
    builder.adjust(1)
    return text.format(name=name, refund=money(refund)), builder.as_markup()


def done(action: str, outcome: Outcome | None = None) -> str:
    if outcome is not None and outcome.replayed:
        return _("Already done; nothing was charged again.")
    texts = {
        "renew_on": _("Auto-renew is on."),
        "renew_off": _("Auto-renew is off."),
        "set_up": _("Marked set up: the service is working."),
    }
    if action == "returned":
        return _("Returned: {amount} charged.").format(amount=money(outcome.amount))
    if action == "disconnected":
        return _("Disconnected; {amount} refunded.").format(amount=money(outcome.amount))
    return texts[action]
