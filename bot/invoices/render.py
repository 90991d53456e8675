"""Texts of /requisites, /invoices, an issued invoice's caption and the statement import report.
Money and dates are formatted here and nowhere in the core."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.format import day, money, q
from bot.invoices.callbacks import InvoicePdfCb
from core.invoices.models import Invoice, InvoiceStatus
from core.invoices.reconcile import ImportReport, Line
from core.invoices.service import Requisites


def requisites(details: Requisites | None) -> str:
    usage = _(
        "To set or change them, send in one line, separated by semicolons:\n"
        "/requisites INN; name; KPP; address — for a company\n"
        "/requisites INN; name; address — for a sole trader\n"
        "/requisites clear — to remove them."
    )
    if details is None:
        head = _(
            "Your payer details are not given yet: invoices name only the shop. They are "
            "optional, but a company's accountant needs them to pay."
        )
        return f"{head}\n\n{usage}"
    return f"{requisites_saved(details)}\n\n{usage}"


def requisites_saved(details: Requisites) -> str:
    lines = [_("Payer details on your invoices:"), f"<b>{q(details.name)}</b>"]
    lines.append(_("INN {inn}").format(inn=details.inn))
    if details.kpp:
        lines.append(_("KPP {kpp}").format(kpp=details.kpp))
    if details.address:
        lines.append(q(details.address))
    return "\n".join(lines)


def requisites_cleared(removed: bool) -> str:
    if removed:
        return _("Payer details removed: new invoices name only the shop.")
    return _("There were no payer details to remove.")


def status(value: str) -> str:
    return {
        InvoiceStatus.ISSUED: _("awaiting payment"),
        InvoiceStatus.PARTLY_PAID: _("partly paid"),
        InvoiceStatus.PAID: _("paid"),
        InvoiceStatus.CANCELLED: _("cancelled"),
    }.get(value, value)


def invoice_list(rows: list[Invoice]) -> tuple[str, InlineKeyboardMarkup | None]:
    usage = _(
        "A new invoice to pay by bank transfer:\n"
        "/invoices prepay 3 — the tariff for 1, 3, 6 or 12 months\n"
        "/invoices topup 5000 — the services balance"
    )
    if not rows:
        return f"{_('No invoices yet.')}\n\n{usage}", None
    lines = [_("Your invoices (the latest first):")]
    keyboard = InlineKeyboardBuilder()
    for row in rows:
        lines.append(
            _("<b>{number}</b> of {date} · {total} · {status}").format(
                number=row.number,
                date=day(row.issued_on),
                total=money(row.total),
                status=status(row.status),
            )
        )
        if row.status == InvoiceStatus.PARTLY_PAID:
            lines.append(
                "  "
                + _("received {received}, missing {missing}").format(
                    received=money(row.received), missing=money(row.total - row.received)
                )
            )
        keyboard.button(text=f"📄 {row.number}", callback_data=InvoicePdfCb(invoice_id=row.id))
    keyboard.adjust(2)
    return "\n".join(lines) + "\n\n" + usage, keyboard.as_markup()


def invoices_usage() -> str:
    return _("Usage: /invoices prepay 3 (months: 1, 3, 6 or 12) or /invoices topup 5000 (rubles).")


def caption(params: dict[str, Any]) -> str:
    """The text under an invoice's PDF: what it is, how to pay, until when."""
    return _(
        "Invoice {number} for {total}. Pay it by bank transfer from your company's account by "
        "{due}, with this purpose (copy it whole):\n<code>{purpose}</code>\n"
        "The payment is credited automatically once it reaches our account."
    ).format(
        number=params["number"],
        total=money(params["total"]),
        due=day(date.fromisoformat(params["due_on"])),
        purpose=q(params["purpose"]),
    )


def pdf_file(number: str, data: bytes) -> BufferedInputFile:
    return BufferedInputFile(data, filename=f"{number}.pdf")


# ---------------------------------------------------------------- the statement report


def _line(line: Line) -> str:
    p = line.params
    doc = line.number or "?"
    if line.outcome == "applied":
        amount = money(p["amount"])
        if p["status"] == InvoiceStatus.PAID and p.get("paid_through"):
            text = _("№{doc}: {amount} → invoice {invoice} paid; paid through {date}.").format(
                doc=doc,
                amount=amount,
                invoice=p["invoice"],
                date=day(date.fromisoformat(p["paid_through"])),
            )
        elif p["status"] == InvoiceStatus.PARTLY_PAID:
            text = _("№{doc}: {amount} → invoice {invoice} partly paid, {missing} missing.").format(
                doc=doc, amount=amount, invoice=p["invoice"], missing=money(p["missing"])
            )
        elif p["status"] == InvoiceStatus.PAID and p.get("to_invoice"):
            text = _("№{doc}: {amount} → invoice {invoice} paid.").format(
                doc=doc, amount=amount, invoice=p["invoice"]
            )
        else:
            text = _("№{doc}: {amount} (invoice {invoice}) → credited to the balance.").format(
                doc=doc, amount=amount, invoice=p["invoice"]
            )
        if p.get("to_balance") and p.get("to_invoice"):
            text += " " + _("{credit} to the balance.").format(credit=money(p["to_balance"]))
        return "✅ " + text
    if line.outcome == "duplicate":
        return "↩️ " + _("№{doc}: imported before, nothing changed.").format(doc=doc)
    if line.outcome == "unmatched":
        reasons = {
            "no_number": _("no invoice number in the purpose"),
            "unknown_invoice": _("the purpose names no invoice of ours"),
            "cancelled_invoice": _("invoice {invoice} is cancelled"),
            "inn_mismatch": _("the payer's INN is not that of invoice {invoice}'s account"),
        }
        reason = reasons.get(p["reason"], p["reason"]).format(invoice=p.get("invoice"))
        return "❓ " + _(
            "№{doc}: {amount} waits for you ({reason}): payment #{id}, assign it with "
            "`billing assign {id}`."
        ).format(doc=doc, amount=money(p["amount"]), reason=reason, id=p["id"])
    if line.outcome == "other_recipient":
        return "➖ " + _("№{doc}: to another account ({account}), skipped.").format(
            doc=doc, account=p["account"]
        )
    if line.outcome == "outgoing":
        return "➖ " + _("№{doc}: an outgoing payment, skipped.").format(doc=doc)
    if line.outcome == "malformed":
        reasons = {
            "doc_number": _("no document number"),
            "doc_date": _("the date {value} is not DD.MM.YYYY"),
            "doc_amount": _("the amount {value} can't be read"),
            "doc_truncated": _("the document is cut off (no КонецДокумента)"),
        }
        reason = reasons.get(p["reason"], p["reason"]).format(value=p.get("value") or "—")
        return "⚠️ " + _("Document {index} (№{doc}): {reason}; nothing applied.").format(
            index=p["index"], doc=doc, reason=reason
        )
    if line.outcome == "refused":
        return "⚠️ " + _("№{doc}: refused ({code}); nothing applied.").format(
            doc=doc, code=p.get("code")
        )
    return "⚠️ " + _("№{doc}: failed unexpectedly; nothing applied, import it again.").format(
        doc=doc
    )


def report(result: ImportReport) -> str:
    head = _(
        "Statement imported: {applied} applied, {unmatched} waiting for you, {seen} seen "
        "before, {bad} with problems."
    ).format(
        applied=result.count("applied"),
        unmatched=result.count("unmatched"),
        seen=result.count("duplicate"),
        bad=result.count("malformed", "refused", "failed"),
    )
    lines = [head, *(_line(line) for line in result.lines)]
    if result.truncated:
        lines.append(
            "⚠️ "
            + _(
                "The file ends without КонецФайла: it may be cut off. Import the whole "
                "statement again: what was applied is not applied twice."
            )
        )
    if not result.lines:
        lines.append(_("No documents in the statement."))
    return "\n".join(lines)
