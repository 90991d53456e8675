"""Invoices: the payer's details (/requisites), issuing (race-free numbers), listing, cancelling.

An invoice is a record: its number, lines, total, the supplier's and the payer's details stay
as issued; only its status and the money received move (core/invoices/reconcile.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, update

from core.accounts.models import Account
from core.audit.service import audit
from core.db.sql import insert_ignoring_duplicates
from core.db.uow import UnitOfWork
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.invoices.inn import clean_inn, clean_kpp, is_company
from core.invoices.models import (
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceStatus,
    PayerDetails,
)
from core.invoices.operator import Operator
from core.ledger.service import MAX_TOP_UP
from core.members.actor import Actor
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import OWNER, Perm
from core.tariff.catalog import Catalog
from core.tariff.pricing import LineKind, invoice
from core.tariff.seats import account_today, count_seats

NAME_LIMIT = 200
ADDRESS_LIMIT = 300
PURPOSE_LIMIT = 210  # the bank's field
LIST_LIMIT = 10


# ---------------------------------------------------------------- the payer's details


@dataclass(frozen=True, slots=True)
class Requisites:
    name: str
    inn: str
    kpp: str | None
    address: str | None

    @property
    def company(self) -> bool:
        return is_company(self.inn)

    def as_payer(self) -> dict[str, Any]:
        return {"name": self.name, "inn": self.inn, "kpp": self.kpp, "address": self.address}


def _text(value: str | None, limit: int, code: str) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise InvalidInput(code, limit=limit)
    if "\x00" in value:
        raise InvalidInput(code, limit=limit)
    return value or None


def check_requisites(
    name: str | None, inn: str, kpp: str | None, address: str | None
) -> Requisites:
    """Validated details, or InvalidInput naming the problem (an INN's check digits too)."""
    clean = clean_inn(inn)
    title = _text(name, NAME_LIMIT, "requisites_name_long")
    if title is None:
        raise InvalidInput("requisites_name")
    if is_company(clean):
        if not (kpp or "").strip():
            raise InvalidInput("kpp_required")
        kpp = clean_kpp(kpp)
    else:
        kpp = None  # a sole trader has no KPP
    return Requisites(title, clean, kpp, _text(address, ADDRESS_LIMIT, "requisites_address_long"))


async def requisites_of(uow: UnitOfWork, account_id: int) -> Requisites | None:
    row = await uow.session.get(PayerDetails, account_id)
    if row is None:
        return None
    return Requisites(row.name, row.inn, row.kpp, row.address)


def _require_billing(actor: Actor) -> None:
    actor.require(Perm.BILLING_MANAGE)


async def show_requisites(uow: UnitOfWork, actor: Actor) -> Requisites | None:
    _require_billing(actor)
    return await requisites_of(uow, actor.account_id)


async def set_requisites(uow: UnitOfWork, actor: Actor, details: Requisites) -> Requisites:
    """Saves the payer's details (validated by `check_requisites`); audited with before/after."""
    _require_billing(actor)
    account = await uow.session.get(Account, actor.account_id)
    row = await uow.session.get(PayerDetails, actor.account_id)
    before = None
    if row is None:
        row = PayerDetails(account_id=actor.account_id)
        uow.session.add(row)
    else:
        before = Requisites(row.name, row.inn, row.kpp, row.address).as_payer()
    row.name, row.inn, row.kpp, row.address = (
        details.name,
        details.inn,
        details.kpp,
        details.address,
    )
    row.updated_by, row.updated_at = actor.member_id, uow.clock.now()
    audit(uow, actor, "account.requisites_set", account, before=before, after=details.as_payer())
    await uow.commit()
    return details


async def clear_requisites(uow: UnitOfWork, actor: Actor) -> bool:
    _require_billing(actor)
    row = await uow.session.get(PayerDetails, actor.account_id)
    if row is None:
        return False
    account = await uow.session.get(Account, actor.account_id)
    before = Requisites(row.name, row.inn, row.kpp, row.address).as_payer()
    await uow.session.delete(row)
    audit(uow, actor, "account.requisites_cleared", account, before=before)
    await uow.commit()
    return True


# ---------------------------------------------------------------- numbers


async def next_number(uow: UnitOfWork, prefix: str, year: int) -> str:
    """PREFIX-YYYY-NNNNNN, the next of that prefix and year, in the caller's transaction.

    The counter row is created once (INSERT … ON CONFLICT DO NOTHING) and moved with
    UPDATE … RETURNING: on PostgreSQL a concurrent issuer waits on the row lock until this
    transaction ends, then reads the moved value; on SQLite write transactions are serial.
    The UNIQUE number of an invoice is the backstop."""
    await uow.session.execute(
        insert_ignoring_duplicates(uow, InvoiceCounter).values(prefix=prefix, year=year, last=0)
    )
    last = (
        await uow.session.execute(
            update(InvoiceCounter)
            .where(InvoiceCounter.prefix == prefix, InvoiceCounter.year == year)
            .values(last=InvoiceCounter.last + 1)
            .returning(InvoiceCounter.last)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    return f"{prefix}-{year}-{last:06d}"


_NUMBER_IN_TEXT = r"{prefix}-?([0-9]{{4}})-?([0-9]{{1,9}})"


def find_number(text: str | None, prefix: str) -> str | None:
    """The invoice number a payment purpose names, however written: `№ sd-2026-000123`,
    `SD 2026 000123`, `SD–2026–123` all name SD-2026-000123."""
    if not text:
        return None
    squeezed = re.sub(r"[\s№#]", "", text.upper())
    squeezed = re.sub(r"[‐‑‒–—―]", "-", squeezed)
    match = re.search(_NUMBER_IN_TEXT.format(prefix=re.escape(prefix.upper())), squeezed)
    if match is None:
        return None
    return f"{prefix.upper()}-{match[1]}-{int(match[2]):06d}"


# ---------------------------------------------------------------- issuing


def vat_included(total: int, rate: Decimal | None) -> int:
    """The VAT inside a total that includes it, rounded half-up to the kopeck."""
    if rate is None:
        return 0
    exact = Decimal(total) * rate / (Decimal(100) + rate)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _purpose(operator: Operator, number: str, issued: date, total: int) -> str:
    service = operator.service_ru[:1].lower() + operator.service_ru[1:]
    if operator.vat_rate is None:
        vat = "Без НДС"
    else:
        vat_kop = vat_included(total, operator.vat_rate)
        rubles, kop = divmod(vat_kop, 100)
        vat = f"В т.ч. НДС {operator.vat_rate.normalize():f}% {rubles}-{kop:02d}"
    text = f"Оплата по счёту № {number} от {issued:%d.%m.%Y} за {service}. {vat}"
    return text[:PURPOSE_LIMIT]


def _prepay_lines(
    catalog: Catalog, tariff_code: str, members: int, months: int
) -> tuple[list, int]:
    bill = invoice(catalog, catalog.tariff(tariff_code), members, months)
    tariff = bill.tariff
    lines: list[dict[str, Any]] = []
    for line in bill.lines:
        if line.quantity == 0:
            continue
        if line.kind == LineKind.TARIFF:
            lines.append(
                {
                    "kind": "tariff",
                    "name_ru": f"Тариф «{tariff.name_ru}», {months} мес.",
                    "name_en": f"Tariff {tariff.name_en}, {months} mo.",
                    "quantity": months,
                    "unit_ru": "мес.",
                    "unit_en": "mo.",
                    "price": line.unit_price,
                    "amount": line.amount,
                }
            )
        else:
            lines.append(
                {
                    "kind": "extra_users",
                    "name_ru": (
                        f"Дополнительные пользователи сверх {tariff.free_users}: "
                        f"{line.quantity} × {months} мес."
                    ),
                    "name_en": (
                        f"Extra users beyond {tariff.free_users}: {line.quantity} × {months} mo."
                    ),
                    "quantity": line.quantity * months,
                    "unit_ru": "польз.-мес.",
                    "unit_en": "user-mo.",
                    "price": line.unit_price,
                    "amount": line.amount,
                }
            )
    if bill.discount:
        percent = f"{bill.discount_percent.normalize():f}".replace(".", ",")
        lines.append(
            {
                "kind": "discount",
                "name_ru": f"Скидка за предоплату {months} мес. ({percent} %)",
                "name_en": f"Prepayment discount, {months} mo. ({percent} %)",
                "quantity": 1,
                "unit_ru": "",
                "unit_en": "",
                "price": -bill.discount,
                "amount": -bill.discount,
            }
        )
    return lines, bill.total


def _topup_lines(operator: Operator, amount: int) -> list[dict[str, Any]]:
    return [
        {
            "kind": "topup",
            "name_ru": f"Пополнение баланса: {operator.service_ru} (аванс)",
            "name_en": f"Balance top-up: {operator.service_en} (advance)",
            "quantity": 1,
            "unit_ru": "усл.",
            "unit_en": "svc.",
            "price": amount,
            "amount": amount,
        }
    ]


async def owner_locale(uow: UnitOfWork, account: Account) -> str:
    owner = (
        await uow.session.scalars(
            select(Member)
            .join(Role, Role.id == Member.role_id)
            .where(
                Member.account_id == account.id,
                Role.code == OWNER,
                Member.status == MemberStatus.ACTIVE,
            )
        )
    ).first()
    return (owner.locale if owner is not None else None) or account.locale


async def create_invoice(
    uow: UnitOfWork,
    account_id: int,
    kind: InvoiceKind,
    *,
    operator: Operator,
    catalog: Catalog,
    months: int | None = None,
    amount: int | None = None,
    locale: str | None = None,
    actor_id: int | None = None,
    auto_key: str | None = None,
) -> Invoice:
    """Issues an invoice in the caller's transaction (it commits); audited.

    Prepay: the tariff rules' invoice for `months` at today's seats (the same numbers as
    /invoice and the reminders). Top-up: one line of `amount` kopecks."""
    account = await uow.session.get(Account, account_id)
    if account is None:
        raise NotFound("account_not_found", account=account_id)
    if kind == InvoiceKind.PREPAY:
        catalog.check_period(months or 0)
        members = await count_seats(uow, account_id)
        lines, total = _prepay_lines(catalog, account.tariff_code, members, months)
    else:
        if amount is None or amount <= 0:
            raise InvalidInput("amount_positive")
        if amount > MAX_TOP_UP:
            raise InvalidInput("amount_too_large", amount=MAX_TOP_UP)
        months, total, lines = None, amount, _topup_lines(operator, amount)
    today = account_today(uow, account)
    number = await next_number(uow, operator.prefix, today.year)
    requisites = await requisites_of(uow, account_id)
    payer = requisites.as_payer() if requisites else {"name": account.name}
    row = Invoice(
        account_id=account_id,
        number=number,
        kind=kind.value,
        months=months,
        issued_on=today,
        due_on=today + timedelta(days=operator.due_days),
        total=total,
        received=0,
        status=InvoiceStatus.ISSUED.value,
        purpose=_purpose(operator, number, today, total),
        locale=locale or await owner_locale(uow, account),
        supplier=operator.details(),
        payer=payer,
        lines=lines,
        auto_key=auto_key,
        created_by=actor_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(row)
    await uow.session.flush()
    audit(
        uow,
        actor_id,
        "invoice.issued",
        row,
        after={"number": number, "kind": kind.value, "months": months, "total": total},
    )
    return row


async def issue_invoice(
    uow: UnitOfWork,
    actor: Actor,
    kind: InvoiceKind,
    *,
    operator: Operator,
    catalog: Catalog,
    months: int | None = None,
    amount: int | None = None,
) -> Invoice:
    """The bot's use case: the owner (billing.manage) asks for an invoice to pay by transfer.

    /prepay (months) and /topup (an amount) issue theirs here; open while read-only too."""
    _require_billing(actor)
    row = await create_invoice(
        uow,
        actor.account_id,
        kind,
        operator=operator,
        catalog=catalog,
        months=months,
        amount=amount,
        locale=actor.locale,
        actor_id=actor.member_id,
    )
    await uow.commit()
    return row


async def list_invoices(uow: UnitOfWork, actor: Actor, limit: int = LIST_LIMIT) -> list[Invoice]:
    _require_view(actor)
    return list(
        await uow.session.scalars(
            select(Invoice)
            .where(Invoice.account_id == actor.account_id)
            .order_by(Invoice.id.desc())
            .limit(limit)
        )
    )


def _require_view(actor: Actor) -> None:
    if not (actor.can(Perm.BILLING_MANAGE) or actor.can(Perm.USERS_MANAGE)):
        raise PermissionDenied(permission=Perm.BILLING_MANAGE.value)


async def get_invoice(uow: UnitOfWork, actor: Actor, invoice_id: int) -> Invoice:
    """One of the actor's account's invoices (a forged id of another account is not found)."""
    _require_view(actor)
    row = await uow.session.get(Invoice, invoice_id)
    if row is None or row.account_id != actor.account_id:
        raise NotFound("invoice_not_found")
    return row


async def invoice_by_number(uow: UnitOfWork, number: str, *, lock: bool = False) -> Invoice | None:
    query = select(Invoice).where(Invoice.number == number)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await uow.session.scalars(query)).first()


async def cancel_invoice(uow: UnitOfWork, number: str, reason: str) -> Invoice:
    """The operator cancels an unpaid invoice; the record stays (status cancelled), audited."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("reason_required")
    row = await invoice_by_number(uow, number.strip().upper(), lock=True)
    if row is None:
        raise NotFound("invoice_not_found")
    if row.status != InvoiceStatus.ISSUED:
        raise Conflict("invoice_not_cancellable", number=row.number, status=row.status)
    row.status = InvoiceStatus.CANCELLED.value
    row.cancelled_at = uow.clock.now()
    audit(
        uow,
        None,
        "invoice.cancelled",
        row,
        before={"status": InvoiceStatus.ISSUED.value},
        after={"status": row.status},
        reason=reason[:500],
    )
    await uow.commit()
    return row


def document(row: Invoice) -> dict[str, Any]:
    """Everything the PDF shows, as JSON (the outbox carries it; the PDF is rendered from it)."""
    return {
        "id": row.id,
        "number": row.number,
        "kind": row.kind,
        "issued_on": row.issued_on.isoformat(),
        "due_on": row.due_on.isoformat(),
        "total": row.total,
        "purpose": row.purpose,
        "supplier": row.supplier,
        "payer": row.payer,
        "lines": row.lines,
        "locale": row.locale,
    }
