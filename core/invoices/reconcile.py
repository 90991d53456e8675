"""Bank statement reconciliation: each incoming payment applied to its invoice, once ever.

One transaction per bank document: its row (UNIQUE document key) is written with everything
it causes — the invoice's status, the prepayment or the balance credit, the owner's notice,
the audit entry — or nothing is. An import cut short is simply imported again; documents
already stored are reported and skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.invoices.models import BankPayment, Invoice, InvoiceKind, InvoiceStatus, PaymentStatus
from core.invoices.operator import Operator
from core.invoices.service import find_number, invoice_by_number, requisites_of
from core.invoices.statement import BadDocument, BankDocument, parse_statement
from core.journal.billing import credit_and_renew
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import OWNER
from core.notifications.outbox import Recipient, enqueue
from core.tariff.catalog import Catalog
from core.tariff.service import apply_prepayment

log = logging.getLogger(__name__)
Underpayment = Literal["hold", "balance"]
NOTICE = "invoice.payment"


@dataclass(frozen=True, slots=True)
class Line:
    """What became of one bank document: `outcome` is a stable code, `params` its details."""

    outcome: str
    number: str | None  # the bank document's number
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportReport:
    lines: list[Line]
    truncated: bool

    def count(self, *outcomes: str) -> int:
        return sum(1 for line in self.lines if line.outcome in outcomes)


@dataclass(frozen=True, slots=True)
class Applied:
    """How one payment's money went: to the invoice, and to the balance."""

    to_invoice: int
    to_balance: int
    status: str  # the invoice's status after it
    paid_through: date | None = None


async def _owner(uow: UnitOfWork, account: Account) -> Recipient | None:
    owner = (
        await uow.session.scalars(
            select(Member)
            .join(Role, Role.id == Member.role_id)
            .where(
                Member.account_id == account.id,
                Role.code == OWNER,
                Member.status == MemberStatus.ACTIVE,
                Member.unreachable.is_(False),
            )
        )
    ).first()
    if owner is None:
        return None
    return Recipient(owner.telegram_id, owner.locale or account.locale, owner.id)


async def _notify(
    uow: UnitOfWork, payment: BankPayment, invoice: Invoice | None, applied: Applied
) -> None:
    account = await uow.session.get(Account, payment.account_id)
    recipient = await _owner(uow, account)
    if recipient is None:
        return
    params = {
        "amount": payment.amount,
        "number": invoice.number if invoice else None,
        "status": applied.status,
        "to_invoice": applied.to_invoice,
        "total": invoice.total if invoice else None,
        "missing": invoice.total - invoice.received if invoice else 0,
        "to_balance": applied.to_balance,
        "paid_through": applied.paid_through.isoformat() if applied.paid_through else None,
    }
    await enqueue(
        uow,
        account=account,
        event_key=f"{NOTICE}:{payment.id}",
        kind=NOTICE,
        params=params,
        recipients=[recipient],
        respect_quiet_hours=False,
    )


async def _credit(uow: UnitOfWork, payment: BankPayment, amount: int, what: str) -> None:
    if amount > 0:
        await credit_and_renew(
            uow, payment.account_id, None, amount, f"{what} bank#{payment.id}"[:100]
        )


async def apply_to_invoice(
    uow: UnitOfWork,
    payment: BankPayment,
    invoice: Invoice,
    *,
    catalog: Catalog,
    underpayment: Underpayment,
) -> Applied:
    """Counts the payment toward the (locked) invoice; never commits.

    Paid in full: marked paid and applied (prepay: the paid-through date moves as /prepay moves
    it; top-up: the balance is credited, renewing what it covers); anything above the invoice
    goes to the balance. Below it: partly paid, nothing credited until the rest arrives — or,
    with `underpayment="balance"`, the money is credited to the balance and the invoice stays
    as it was."""
    payment.invoice_id, payment.account_id = invoice.id, invoice.account_id
    due = invoice.total - invoice.received
    amount = payment.amount
    if due <= 0:  # paid before: this money is the account's, on its balance
        payment.to_balance = amount
        await _credit(uow, payment, amount, invoice.number)
        return Applied(0, amount, invoice.status)
    if amount < due and underpayment == "balance":
        payment.to_balance = amount
        await _credit(uow, payment, amount, invoice.number)
        return Applied(0, amount, invoice.status)
    before = invoice.status
    taken = min(amount, due)
    invoice.received += taken
    payment.to_invoice = taken
    paid_through = None
    extra = amount - taken
    if invoice.received < invoice.total:
        invoice.status = InvoiceStatus.PARTLY_PAID.value
    else:
        invoice.status = InvoiceStatus.PAID.value
        invoice.paid_at = uow.clock.now()
        if invoice.kind == InvoiceKind.PREPAY:
            result = await apply_prepayment(
                uow,
                invoice.account_id,
                invoice.months,
                invoice.number,
                catalog,
                amount=invoice.total,
            )
            paid_through = result.paid_through
        else:
            extra += invoice.total  # the whole top-up, held parts included, credits now
    payment.to_balance = amount - taken if invoice.kind == InvoiceKind.PREPAY else 0
    if invoice.kind == InvoiceKind.TOPUP and invoice.status == InvoiceStatus.PAID:
        payment.to_balance = extra
    await _credit(uow, payment, extra, invoice.number)
    audit(
        uow,
        None,
        "invoice.payment_received",
        invoice,
        before={"status": before, "received": invoice.received - taken},
        after={
            "status": invoice.status,
            "received": invoice.received,
            "payment_id": payment.id,
            "amount": amount,
            "to_balance": payment.to_balance,
        },
    )
    return Applied(taken, payment.to_balance, invoice.status, paid_through)


async def _match(
    uow: UnitOfWork, payment: BankPayment, operator: Operator
) -> tuple[Invoice | None, str | None]:
    """The invoice the purpose names, locked; or why the payment waits for the operator."""
    number = find_number(payment.purpose, operator.prefix)
    if number is None:
        return None, "no_number"
    invoice = await invoice_by_number(uow, number, lock=True)
    if invoice is None:
        return None, "unknown_invoice"
    if invoice.status == InvoiceStatus.CANCELLED:
        return invoice, "cancelled_invoice"
    known = {(invoice.payer or {}).get("inn")}
    current = await requisites_of(uow, invoice.account_id)
    if current is not None:
        known.add(current.inn)
    known.discard(None)
    if known and payment.payer_inn not in known:
        return invoice, "inn_mismatch"
    return invoice, None


async def apply_document(
    uow: UnitOfWork,
    document: BankDocument,
    *,
    operator: Operator,
    catalog: Catalog,
    underpayment: Underpayment,
) -> Line:
    """One bank document in one transaction; commits what it did (or nothing)."""
    if document.recipient_account != operator.account:
        outgoing = document.payer_account == operator.account
        return Line(
            "outgoing" if outgoing else "other_recipient",
            document.number,
            {"account": document.recipient_account or "—", "amount": document.amount},
        )
    seen = (
        await uow.session.scalars(select(BankPayment).where(BankPayment.doc_key == document.key))
    ).first()
    if seen is not None:
        line = Line("duplicate", document.number, {"status": seen.status, "id": seen.id})
        await uow.rollback()
        return line
    payment = BankPayment(
        doc_key=document.key,
        doc_number=document.number,
        doc_date=document.on,
        amount=document.amount,
        payer_name=document.payer_name,
        payer_inn=document.payer_inn,
        payer_account=document.payer_account,
        purpose=document.purpose,
        status=PaymentStatus.UNMATCHED.value,
        to_invoice=0,
        to_balance=0,
        created_at=uow.clock.now(),
    )
    uow.session.add(payment)
    try:
        await uow.session.flush()
    except IntegrityError:  # a concurrent import stored it a moment ago
        await uow.rollback()
        return Line("duplicate", document.number, {"status": "", "id": None})
    invoice, problem = await _match(uow, payment, operator)
    common = {"amount": document.amount, "id": payment.id}
    if problem is not None:
        payment.reason = problem
        await uow.commit()
        return Line(
            "unmatched",
            document.number,
            {**common, "reason": problem, "invoice": invoice.number if invoice else None},
        )
    applied = await apply_to_invoice(
        uow, payment, invoice, catalog=catalog, underpayment=underpayment
    )
    payment.status = PaymentStatus.APPLIED.value
    payment.resolved_at = uow.clock.now()
    await _notify(uow, payment, invoice, applied)
    await uow.commit()
    return Line(
        "applied",
        document.number,
        {
            **common,
            "invoice": invoice.number,
            "status": applied.status,
            "to_invoice": applied.to_invoice,
            "to_balance": applied.to_balance,
            "missing": invoice.total - invoice.received,
            "paid_through": applied.paid_through.isoformat() if applied.paid_through else None,
        },
    )


async def import_statement(
    uow: UnitOfWork,
    data: bytes,
    *,
    operator: Operator,
    catalog: Catalog,
    underpayment: Underpayment = "hold",
) -> ImportReport:
    """Reads a 1C statement and applies every incoming payment to the operator's account.

    The file as a whole is refused (InvalidInput) when it is not a 1C statement, is in an
    encoding other than it says, or is too big; every other problem is one document's line."""
    statement = parse_statement(data)
    lines: list[Line] = []
    for document in statement.documents:
        if isinstance(document, BadDocument):
            lines.append(
                Line(
                    "malformed",
                    document.number,
                    {"reason": document.reason, "value": document.value, "index": document.index},
                )
            )
            continue
        try:
            lines.append(
                await apply_document(
                    uow, document, operator=operator, catalog=catalog, underpayment=underpayment
                )
            )
        except DomainError as exc:
            await uow.rollback()
            lines.append(Line("refused", document.number, {"code": exc.code, **exc.params}))
        except Exception:
            await uow.rollback()
            log.exception("statement: document %s failed", document.number)
            lines.append(Line("failed", document.number, {}))
    return ImportReport(lines, statement.truncated)


# ---------------------------------------------------------------- by hand


async def unmatched_payments(uow: UnitOfWork, limit: int = 100) -> list[BankPayment]:
    return list(
        await uow.session.scalars(
            select(BankPayment)
            .where(BankPayment.status == PaymentStatus.UNMATCHED)
            .order_by(BankPayment.id)
            .limit(limit)
        )
    )


async def assign_payment(
    uow: UnitOfWork,
    payment_id: int,
    *,
    reason: str,
    catalog: Catalog,
    invoice_number: str | None = None,
    account_id: int | None = None,
    underpayment: Underpayment = "hold",
) -> tuple[BankPayment, Invoice | None, Applied]:
    """The operator's decision on an unmatched payment: to an invoice (counted as the import
    would, the payer INN not checked) or to an account's balance. Audited with the reason."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("reason_required")
    if (invoice_number is None) == (account_id is None):
        raise InvalidInput("assign_target")
    payment = (
        await uow.session.scalars(
            select(BankPayment)
            .where(BankPayment.id == payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
    if payment is None:
        raise NotFound("payment_not_found", payment=payment_id)
    if payment.status != PaymentStatus.UNMATCHED:
        raise Conflict("payment_resolved", payment=payment_id, status=payment.status)
    invoice = None
    if invoice_number is not None:
        invoice = await invoice_by_number(uow, invoice_number.strip().upper(), lock=True)
        if invoice is None:
            raise NotFound("invoice_not_found")
        if invoice.status == InvoiceStatus.CANCELLED:
            raise Conflict("invoice_cancelled", number=invoice.number)
        applied = await apply_to_invoice(
            uow, payment, invoice, catalog=catalog, underpayment=underpayment
        )
    else:
        if await uow.session.get(Account, account_id) is None:
            raise NotFound("account_not_found", account=account_id)
        payment.account_id = account_id
        payment.to_balance = payment.amount
        await _credit(uow, payment, payment.amount, "assigned")
        applied = Applied(0, payment.amount, "")
    payment.status = PaymentStatus.ASSIGNED.value
    payment.resolved_at = uow.clock.now()
    audit(
        uow,
        None,
        "invoice.payment_assigned",
        payment,
        after={
            "payment_id": payment.id,
            "doc": payment.doc_key,
            "invoice": invoice.number if invoice else None,
            "account": payment.account_id,
            "to_invoice": payment.to_invoice,
            "to_balance": payment.to_balance,
        },
        reason=reason[:500],
        subject_type="bank_payment",
    )
    await _notify(uow, payment, invoice, applied)
    await uow.commit()
    return payment, invoice, applied
