"""Texts of /balance and /topup."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.balance.callbacks import FormAction, TopUpFormCb
from bot.format import day, money, q, when
from bot.journal.render import service_name
from core.journal.billing import BalanceOverview, TopUpPreview, TopUpResult
from core.journal.forecast import FORECAST_DAYS, WEEK_DAYS, Needs, Renewal
from core.ledger.models import LedgerEntry

# Each line says which way the money went: a charge is named as one ("service brought back"
# read as a refund when it was a charge).
REASONS = {
    "topup": __("top-up"),
    "service.order": __("charge for an order"),
    "service.renewal": __("charge for a renewal"),
    "service.return": __("charge for bringing a service back"),
    "service.refund": __("refund to the balance"),
}
SERVICE_REASONS = {"service.order", "service.renewal", "service.return", "service.refund"}


def signed(kopecks: int) -> str:
    return ("+" if kopecks > 0 else "") + money(kopecks)


def entry_line(entry: LedgerEntry, timezone: str) -> str:
    reason = REASONS.get(entry.reason)
    what = str(reason) if reason is not None else q(entry.reason)
    if entry.note and entry.reason in SERVICE_REASONS:
        what += ": " + service_name(entry.note)
    elif entry.note:
        what += " " + q(entry.note)
    return f"<code>{when(entry.created_at, timezone)}</code> {signed(entry.amount)} · {what}"


def renewal_line(renewal: Renewal) -> str:
    name = service_name(renewal.catalog_code)
    if renewal.overdue:
        return _("now · {name} · {price} (suspended: renews once the balance covers it)").format(
            name=name, price=money(renewal.price)
        )
    return f"{day(renewal.on)} · {name} · {money(renewal.price)}"


def week_cover(days: int, amount: int) -> str:
    return ngettext(
        "To cover every renewal of the next {days} day: {amount}.",
        "To cover every renewal of the next {days} days: {amount}.",
        days,
    ).format(days=days, amount=money(amount))


def needs_lines(needs: Needs) -> list[str]:
    """The two top-ups to choose between — the same figures as the alerts."""
    lines = []
    first = needs.first
    if first is not None and needs.keep > 0:
        lines.append(
            _("⚠️ To keep {name} ({date}): top up {amount}.").format(
                name=service_name(first.catalog_code),
                date=_("now") if first.overdue else day(first.on),
                amount=money(needs.keep),
            )
        )
    if needs.week > 0:
        lines.append(week_cover(WEEK_DAYS, needs.week))
    return lines


def runway_line(view: BalanceOverview) -> str:
    run = view.runway
    if not view.anything_renews:
        return _("Nothing renews automatically.")
    if run.short_on is None:
        return _("✅ The balance covers every renewal for the next 12 months.")
    if (run.short_on - view.today).days <= FORECAST_DAYS:
        lines = needs_lines(view.needs) or [
            _("⚠️ Short by {amount} for renewals on {date}.").format(
                amount=money(run.shortfall), date=day(run.short_on)
            )
        ]
        return "\n".join([*lines, _("Top up: /topup")])
    return _("✅ The balance covers renewals until {date}.").format(date=day(run.short_on))


def overview(view: BalanceOverview, timezone: str) -> str:
    lines = [_("<b>Balance: {balance}</b>").format(balance=money(view.balance)), ""]
    if view.renewals:
        lines.append(
            ngettext(
                "<b>Renewals in the next {days} day</b>: {total}",
                "<b>Renewals in the next {days} days</b>: {total}",
                FORECAST_DAYS,
            ).format(days=FORECAST_DAYS, total=money(view.total))
        )
        lines += [renewal_line(r) for r in view.renewals]
    else:
        lines.append(
            ngettext(
                "No renewals in the next {days} day.",
                "No renewals in the next {days} days.",
                FORECAST_DAYS,
            ).format(days=FORECAST_DAYS)
        )
    lines += ["", runway_line(view), "", _("<b>Last operations</b>")]
    lines += [entry_line(e, timezone) for e in view.entries] or [_("No operations yet.")]
    return "\n".join(lines)


def top_up(result: TopUpResult, timezone: str) -> str:
    entry = result.entry
    if result.replayed and entry.note:
        return _(
            "Payment {reference} was already recorded on {when} ({amount}); it is not credited "
            "again. Balance: {balance}."
        ).format(
            reference=q(entry.note),
            when=when(entry.created_at, timezone),
            amount=money(entry.amount),
            balance=money(result.balance),
        )
    if result.replayed:
        return _(
            "This payment was already recorded on {when} ({amount}); it is not credited again. "
            "Balance: {balance}."
        ).format(
            when=when(entry.created_at, timezone),
            amount=money(entry.amount),
            balance=money(result.balance),
        )
    if entry.note:
        text = _("✅ Credited {amount} (payment {reference}). Balance: {balance}.").format(
            amount=money(entry.amount), reference=q(entry.note), balance=money(result.balance)
        )
    else:
        text = _("✅ Credited {amount}. Balance: {balance}.").format(
            amount=money(entry.amount), balance=money(result.balance)
        )
    renewed = [t for t in result.transitions if t.charged]
    if renewed:
        names = ", ".join(service_name(t.catalog_code) for t in renewed)
        text += "\n" + _("Renewed thanks to this payment: {names}.").format(names=names)
    return text


def usage() -> str:
    return _(
        "Usage: /topup — the bot asks for the amount and the payment reference; or in one line "
        "/topup 12 500,50 PP-1042: the amount in rubles (12500, 12 500,50 or 12500.50), then "
        "the payment reference. The same reference is never credited twice."
    )


def _form_keyboard(*, confirm: bool = False, invoice: bool = False) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if confirm:
        builder.button(text=_("✅ Credit"), callback_data=TopUpFormCb(action=FormAction.CONFIRM))
    if invoice:
        builder.button(text=_("📄 Invoice"), callback_data=TopUpFormCb(action=FormAction.INVOICE))
    builder.button(text=_("✖️ Cancel"), callback_data=TopUpFormCb(action=FormAction.CANCEL))
    builder.adjust(2)
    return builder.as_markup()


def ask_amount() -> tuple[str, InlineKeyboardMarkup]:
    return (
        _(
            "Record a payment received. How much, in rubles? For example 12500, 12 500,50 or "
            "12500.50."
        ),
        _form_keyboard(),
    )


def ask_reference(amount: int) -> tuple[str, InlineKeyboardMarkup]:
    return (
        _(
            "{amount}. The payment reference? For example the bank transfer number: the same "
            "reference is never credited twice."
        ).format(amount=money(amount))
        + "\n"
        + _("Not paid yet? 📄 Invoice gives you one to pay by bank transfer."),
        _form_keyboard(invoice=True),
    )


def confirm_top_up(preview: TopUpPreview, reference: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("Credit {amount} (payment {reference})?").format(
            amount=money(preview.amount), reference=q(reference)
        ),
        _("Balance: {before} → {after}.").format(
            before=money(preview.balance), after=money(preview.after)
        ),
    ]
    lines += needs_lines(preview.needs_after) or [
        ngettext(
            "✅ It covers every renewal of the next {days} day.",
            "✅ It covers every renewal of the next {days} days.",
            WEEK_DAYS,
        ).format(days=WEEK_DAYS)
    ]
    return "\n".join(lines), _form_keyboard(confirm=True)


def top_up_cancelled(had_form: bool) -> str:
    return _("Cancelled: nothing was credited.") if had_form else _("There is nothing to cancel.")


def top_up_gone() -> str:
    return _("This confirmation is no longer open: start again with /topup.")


def top_up_not_text() -> str:
    return _("Please answer with text, or press Cancel.")
