"""Texts and keyboards of /tariff, /invoice, /prepay, /plan, the paid-seat question and the
read-only notice. Money and dates are formatted here and nowhere in the core."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.format import day, money, q, when
from bot.members.callbacks import InviteCancel, InviteSeatCb
from bot.tariff.callbacks import InvoiceCb, PlanCancel, PlanCb, PrepayFormCb
from core.members.invites import SeatConfirmation
from core.tariff.catalog import Catalog
from core.tariff.pricing import Invoice, LineKind, Repricing
from core.tariff.service import Prepayment, PrepayPreview, TariffStatus


def percent(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",")


def _date(value: date | None) -> str:
    return day(value) if value is not None else "—"


def paid_until(paid_through: date | None, days_left: int, lapsed: bool) -> str:
    if paid_through is None:
        return _("Paid until: not paid yet.")
    if lapsed:
        return _(
            "The paid period ended on {date}: the account is read-only until it is paid."
        ).format(date=day(paid_through))
    return _("Paid until: {date} (days left: {days}).").format(
        date=day(paid_through), days=days_left
    )


def status(st: TariffStatus, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("<b>Tariff {name}</b>: {price} a month, free users: {free}.").format(
            name=q(st.tariff.name(locale)),
            price=money(st.tariff.monthly_price),
            free=st.tariff.free_users,
        ),
        _("Members counted: {members} (blocked members count too).").format(members=st.members),
        _("Extra users: {count} × {price} = {cost} a month.").format(
            count=st.extra_users,
            price=money(st.extra_user_price),
            cost=money(st.extra_users * st.extra_user_price),
        ),
        _("Monthly cost: {cost}.").format(cost=money(st.monthly_cost)),
        paid_until(st.paid_through, st.days_left, st.lapsed),
        _("Next invoice, 1 month: {total}.").format(total=money(st.next_invoice.total)),
    ]
    builder = InlineKeyboardBuilder()
    for months, off in st.discounts:
        label = _("🧾 {months} mo.").format(months=months)
        if off:
            label += f" −{percent(off)} %"
        builder.button(text=label, callback_data=InvoiceCb(months=months))
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


def invoice(bill: Invoice, locale: str, can_pay: bool) -> str:
    tariff_line, extra_line = bill.lines
    assert (tariff_line.kind, extra_line.kind) == (LineKind.TARIFF, LineKind.EXTRA_USERS)
    name = q(bill.tariff.name(locale))
    lines = [
        _("<b>Invoice: tariff {name}, {months} mo.</b>").format(name=name, months=bill.months),
        _("Tariff {name}: {price} × {months} mo. = {amount}").format(
            name=name,
            price=money(tariff_line.unit_price),
            months=bill.months,
            amount=money(tariff_line.amount),
        ),
        _("Extra users: {count} × {price} × {months} mo. = {amount}").format(
            count=extra_line.quantity,
            price=money(extra_line.unit_price),
            months=bill.months,
            amount=money(extra_line.amount),
        ),
    ]
    if bill.discount_percent:
        lines.append(_("Subtotal: {amount}").format(amount=money(bill.subtotal)))
        lines.append(
            _("Discount {percent} %: −{amount}").format(
                percent=percent(bill.discount_percent), amount=money(bill.discount)
            )
        )
    lines.append(_("<b>Total: {amount}</b>").format(amount=money(bill.total)))
    if can_pay:
        lines.append(
            _("After paying, record it: /prepay {months} [payment reference]").format(
                months=bill.months
            )
        )
    return "\n".join(lines)


def prepaid(result: Prepayment, timezone: str) -> str:
    payment = result.payment
    reference = q(payment.reference) if payment.reference else "—"
    if result.duplicate:
        return _(
            "The payment with reference {reference} was already recorded on {when}: "
            "{months} mo., {amount}. Nothing changed; paid until {date}."
        ).format(
            reference=reference,
            when=when(payment.created_at, timezone),
            months=payment.months,
            amount=money(payment.amount),
            date=_date(result.paid_through),
        )
    return _(
        "Payment recorded: {months} mo., {amount} (reference: {reference}).\n"
        "Paid until: {before} → {after}."
    ).format(
        months=payment.months,
        amount=money(payment.amount),
        reference=reference,
        before=_date(payment.paid_through_before),
        after=_date(payment.paid_through_after),
    )


def _moves(change: Repricing) -> str:
    return _("Paid until: {before} → {after}.").format(
        before=_date(change.paid_through_before), after=_date(change.paid_through_after)
    )


def plan_preview(change: Repricing, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    old, new = change.tariff_before, change.tariff_after
    lines = [
        _("Change the tariff {old} → {new}?").format(
            old=q(old.name(locale)), new=q(new.name(locale))
        ),
        _("Monthly cost: {before} → {after} (free users: {free_before} → {free_after}).").format(
            before=money(change.monthly_before),
            after=money(change.monthly_after),
            free_before=old.free_users,
            free_after=new.free_users,
        ),
        _moves(change),
    ]
    if change.moves_date:
        lines.append(
            _("The {days} prepaid days left are converted at the new monthly cost.").format(
                days=change.days_left
            )
        )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Change to {name}").format(name=new.name(locale)),
        callback_data=PlanCb(code=new.code),
    )
    builder.button(text=_("✖ Cancel"), callback_data=PlanCancel())
    return "\n".join(lines), builder.as_markup()


def plan_changed(change: Repricing, locale: str) -> str:
    return (
        _("Tariff changed: {name}.").format(name=q(change.tariff_after.name(locale)))
        + "\n"
        + _moves(change)
    )


def plan_kept() -> str:
    return _("The tariff stays as it is.")


def tariffs_list(catalog: Catalog, locale: str) -> str:
    lines = [_("Usage: /plan tariff — e.g. /plan business. Tariffs:")]
    for tariff in catalog.tariffs:
        lines.append(
            _("{code} — {name}: {price} a month, free users: {free}").format(
                code=tariff.code,
                name=q(tariff.name(locale)),
                price=money(tariff.monthly_price),
                free=tariff.free_users,
            )
        )
    return "\n".join(lines)


def _seat(seats: Repricing) -> str:
    return _(
        "This will be member {number} of {free} free: +{delta} a month ({before} → {after})."
    ).format(
        number=seats.members_after,
        free=seats.tariff_after.free_users,
        delta=money(seats.monthly_delta),
        before=money(seats.monthly_before),
        after=money(seats.monthly_after),
    )


def seat_confirmation(asked: SeatConfirmation) -> tuple[str, InlineKeyboardMarkup]:
    seats = asked.seats
    text = "\n".join(
        [
            _seat(seats),
            _moves(seats),
            _(
                "The remaining prepaid days are converted at the new monthly cost. "
                "Create the invite?"
            ),
        ]
    )
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Create the invite"),
        callback_data=InviteSeatCb(role=asked.role_code, cost=seats.monthly_after),
    )
    builder.button(text=_("✖ Cancel"), callback_data=InviteCancel())
    return text, builder.as_markup()


def seat_note(seats: Repricing) -> str:
    """Under every invite link whose member will be a paid seat."""
    return _seat(seats)


def invite_cancelled() -> str:
    return _("No invite was created.")


def numbers_changed() -> str:
    return _("The numbers have changed since you were asked: check them again.")


def usage(command: str) -> str:
    texts = {
        "invoice": _("Usage: /invoice [months] — 1, 3, 6 or 12."),
        "prepay": _(
            "Usage: /prepay — the bot asks for the period and the payment reference; or in one "
            "line /prepay months reference, e.g. /prepay 12 PAY-2026-117."
        ),
    }
    return texts[command]


def read_only_notice(is_owner: bool, since: date) -> str:
    if is_owner:
        return _(
            "The paid period ended on {date}, so the account is read-only until it is renewed: "
            "members can look, and you can still pay — top up the balance (/topup), see the "
            "invoice (/invoice) and record the subscription payment (/prepay)."
        ).format(date=day(since))
    return _(
        "The account's paid period ended on {date}, so it is read-only: you can look but not "
        "change anything until the owner renews it."
    ).format(date=day(since))


def _prepay_keyboard(*buttons: tuple[str, PrepayFormCb]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for text, data in buttons:
        builder.button(text=text, callback_data=data)
    builder.button(text=_("✖️ Cancel"), callback_data=PrepayFormCb(cancel=True))
    builder.adjust(len(buttons) + 1 if len(buttons) <= 1 else 4)
    return builder.as_markup()


def ask_prepay_months(catalog: Catalog) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [
        (_("{months} mo.").format(months=months), PrepayFormCb(months=months))
        for months in catalog.periods
    ]
    return _("Record a subscription payment. For how many months?"), _prepay_keyboard(*buttons)


def ask_prepay_reference(preview: PrepayPreview) -> tuple[str, InlineKeyboardMarkup]:
    return (
        _(
            "{months} mo., {amount}. The payment reference? For example the bank transfer "
            "number: the same reference is never recorded twice."
        ).format(months=preview.invoice.months, amount=money(preview.invoice.total))
        + "\n"
        + _("Not paid yet? 📄 Invoice gives you one to pay by bank transfer."),
        _prepay_keyboard((_("📄 Invoice"), PrepayFormCb(invoice=True))),
    )


def confirm_prepay(preview: PrepayPreview, reference: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Record {months} mo., {amount} (payment {reference})?\nPaid until: {before} → {after}."
    ).format(
        months=preview.invoice.months,
        amount=money(preview.invoice.total),
        reference=q(reference),
        before=_date(preview.paid_through_before),
        after=_date(preview.paid_through_after),
    )
    return text, _prepay_keyboard((_("✅ Record"), PrepayFormCb(months=0)))


def prepay_cancelled(had_form: bool) -> str:
    return _("Cancelled: nothing was recorded.") if had_form else _("There is nothing to cancel.")


def prepay_gone() -> str:
    return _("This confirmation is no longer open: start again with /prepay.")


def prepay_not_text() -> str:
    return _("Please answer with text, or press Cancel.")
