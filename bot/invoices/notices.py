"""Outbox notices of invoices: a payment received (paid, partly paid, credited) and an invoice
issued with the renewal reminders, sent as its PDF."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.format import day, money
from bot.invoices import render
from bot.notifications.document import DocumentMessage
from core.invoices.models import InvoiceStatus
from core.invoices.pdf import render_pdf
from core.invoices.reconcile import NOTICE
from core.invoices.renewal import DOCUMENT


def payment(params: dict[str, Any]) -> tuple[str, None]:
    amount, number = money(params["amount"]), params.get("number")
    if number is None:
        text = _("Payment of {amount} received and credited to your balance.").format(amount=amount)
    elif params["status"] == InvoiceStatus.PAID and params.get("paid_through"):
        text = _("Payment of {amount} received for invoice {number}; paid through {date}.").format(
            amount=amount,
            number=number,
            date=day(date.fromisoformat(params["paid_through"])),
        )
    elif params["status"] == InvoiceStatus.PARTLY_PAID:
        text = _(
            "Payment of {amount} received for invoice {number}: {missing} is still missing. "
            "The invoice counts as paid once the rest arrives."
        ).format(amount=amount, number=number, missing=money(params["missing"]))
    elif params["status"] == InvoiceStatus.PAID and params.get("to_invoice"):
        text = _("Payment of {amount} received for invoice {number}; it is paid.").format(
            amount=amount, number=number
        )
    else:
        text = _("Payment of {amount} (invoice {number}) credited to your balance.").format(
            amount=amount, number=number
        )
    extra = params.get("to_balance") or 0
    if extra and params.get("to_invoice"):
        text += " " + _("{credit} credited to your balance.").format(credit=money(extra))
    return text, None


def document(params: dict[str, Any]) -> DocumentMessage:
    return DocumentMessage(
        filename=f"{params['number']}.pdf",
        build=functools.partial(render_pdf, params),
        caption=render.caption(params),
    )


def invoice_renderers() -> dict[str, Any]:
    return {NOTICE: payment, DOCUMENT: document}
