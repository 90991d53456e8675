"""Texts and keyboards of the customer's card and /merge_customers."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.customers.lines import history
from bot.format import q
from bot.orders.render import age_units, card_data
from bot.orders.render import row_label as order_row
from core.customers.keys import readable
from core.customers.service import CustomerCard


def customer_card(
    card: CustomerCard,
    timezone: str,
    now: datetime,
    back_to: int = 0,
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("<b>👤 {name}</b> · customer #{id}").format(name=q(card.name), id=card.id),
        _("Phone: {phone}").format(phone=q(readable(card.phone) if card.phone else "—")),
        _("Email: {email}").format(email=q(card.email or "—")),
    ]
    if card.history is not None:
        lines.append(history(card.history, timezone))
    lines.append("")
    lines.append(_("Orders (colleagues' ones in brief):") if card.orders else _("No orders here."))
    units = age_units()
    rows = [
        [InlineKeyboardButton(text=order_row(s, now, units), callback_data=card_data(s.id))]
        for s in card.orders
    ]
    if card.more:
        lines.append(_("and {n} more").format(n=card.more))
    if card.may_merge:
        lines.append("")
        lines.append(
            _(
                "The same person under another record? /merge_customers {id} N moves the orders "
                "of customer N here."
            ).format(id=card.id)
        )
    if back_to:
        rows.append([InlineKeyboardButton(text=_("« Back"), callback_data=card_data(back_to))])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def merged(card: CustomerCard, dropped: int) -> str:
    return _("✅ Customer #{dropped} is merged into #{id}: their orders are here now.").format(
        dropped=dropped, id=card.id
    )


def merge_usage() -> str:
    return _(
        "Usage: /merge_customers 12 15 — the second customer's orders go to the first, which "
        "takes the phone and email it lacks. Customer numbers are on their cards (/find)."
    )
