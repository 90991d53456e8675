"""The customer in one line: their history on an order card, their row in /find."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.customers.callbacks import CustomerCb
from bot.format import day, local, money, q
from core.customers.keys import readable
from core.customers.views import CustomerHistory, CustomerRow


def orders_count(n: int) -> str:
    return ngettext("{n} order", "{n} orders", n).format(n=n)


def history(h: CustomerHistory, timezone: str) -> str:
    """'3 orders, 4 500,00 ₽ spent; first 02.11.2026, last 22.11.2026; usually with @anna'
    (nothing completed yet: no money part)."""
    values = {
        "orders": orders_count(h.orders),
        "spent": money(h.spent, h.currency),
        "first": day(local(h.first_at, timezone).date()),
        "last": day(local(h.last_at, timezone).date()),
    }
    if h.spent:
        text = _("{orders}, {spent} spent; first {first}, last {last}").format(**values)
    else:
        text = _("{orders}; first {first}, last {last}").format(**values)
    if h.usual_manager:
        text += "; " + _("usually with {manager}").format(manager=q(h.usual_manager))
    return text


def order_card_line(h: CustomerHistory, timezone: str) -> str:
    """The customer's history in one line on the order card."""
    if h.orders == 1:
        return _("👤 A new customer: this is their first order.")
    return _("👤 Customer: {history}").format(history=history(h, timezone))


def card_button(customer_id: int, order_id: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("👤 Customer"),
        callback_data=CustomerCb(customer_id=customer_id, order_id=order_id).pack(),
    )


def row_label(row: CustomerRow) -> str:
    phone = (readable(row.phone),) if row.phone else ()
    parts = ["👤 " + row.name, *phone, orders_count(row.orders)]
    return " · ".join(parts)


def found_buttons(rows: list[CustomerRow]) -> list[list[InlineKeyboardButton]]:
    return [
        [InlineKeyboardButton(text=row_label(r), callback_data=CustomerCb(customer_id=r.id).pack())]
        for r in rows
    ]
