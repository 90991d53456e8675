"""Invoices and bank statement reconciliation on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.errors import Conflict, InvalidInput
from core.invoices import service
from core.invoices.models import BankPayment, Invoice, InvoiceKind, InvoiceStatus
from core.invoices.operator import load_operator
from core.invoices.reconcile import assign_payment, import_statement
from core.ledger.models import LedgerEntry
from core.notifications.models import OutboxMessage
from core.tariff import service as tariff
from core.tariff.catalog import load_catalog
from core.tariff.models import TariffPayment
from core.tariff.pricing import add_months
from tests.support.factories import join, new_account
from tests.support.statements import Doc, statement

CATALOG = load_catalog()
OPERATOR = load_operator()
TODAY = date(2026, 11, 22)  # T0 in Moscow
ROMASHKA = ("ООО «Ромашка»", "5001007329", "500101001", "Мытищи")


async def issue(uows, owner, kind=InvoiceKind.PREPAY, **what) -> Invoice:
    async with uows() as uow:
        return await service.issue_invoice(
            uow, owner, kind, operator=OPERATOR, catalog=CATALOG, **what
        )


async def requisites(uows, owner, *details) -> None:
    async with uows() as uow:
        await service.set_requisites(uow, owner, service.check_requisites(*details))


async def run_import(uows, data: bytes, underpayment="hold"):
    async with uows() as uow:
        return await import_statement(
            uow, data, operator=OPERATOR, catalog=CATALOG, underpayment=underpayment
        )


async def state(uows, account_id: int) -> dict:
    """Everything money can change: the date, the balance, the rows written."""
    async with uows() as uow:

        async def count(model, *where):
            return await uow.session.scalar(select(func.count()).select_from(model).where(*where))

        account = await uow.session.get(Account, account_id)
        return {
            "paid_through": account.paid_through,
            "ledger": await uow.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.account_id == account_id
                )
            ),
            "payments": await count(TariffPayment, TariffPayment.account_id == account_id),
            "bank": await count(BankPayment),
            "notices": await count(OutboxMessage, OutboxMessage.kind == "invoice.payment"),
        }


async def reload(uows, number: str) -> Invoice:
    async with uows() as uow:
        return await service.invoice_by_number(uow, number)


def rub(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


async def test_two_invoices_at_once_never_share_a_number(uows):
    owner = await new_account(uows)
    numbers = [
        row.number
        for row in await asyncio.gather(
            *(issue(uows, owner, InvoiceKind.TOPUP, amount=1000_00 + i) for i in range(6))
        )
    ]
    assert len(set(numbers)) == 6
    assert sorted(numbers) == [f"SD-2026-{n:06d}" for n in range(1, 7)]


async def test_a_prepay_invoice_has_the_numbers_of_the_tariff_rules(uows):
    owner = await new_account(uows, tariff_code="standard")
    for telegram_id in (2001, 2002, 2003, 2004):
        await join(uows, owner, telegram_id)
    await requisites(uows, owner, *ROMASHKA)
    row = await issue(uows, owner, months=12)
    async with uows() as uow:
        preview = await tariff.preview_invoice(uow, owner, 12, CATALOG)
    assert row.total == preview.total == 38_352_00
    assert [line["amount"] for line in row.lines] == [36_000_00, 9_120_00, -6_768_00]
    assert row.number in row.purpose and "Без НДС" in row.purpose
    assert (row.issued_on, row.due_on) == (TODAY, date(2026, 11, 27))
    assert row.payer["inn"] == "5001007329" and row.supplier["account"] == OPERATOR.account
    async with uows() as uow:
        logged = await uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.account_id == owner.account_id)
        )
        assert {"account.requisites_set", "invoice.issued"} <= set(logged)


async def test_a_full_payment_pays_the_invoice_once_however_often_it_is_imported(uows):
    owner = await new_account(uows, tariff_code="start")
    await requisites(uows, owner, *ROMASHKA)
    row = await issue(uows, owner, months=3)
    doc = Doc("15", rub(row.total), f"Оплата по счету № {row.number.lower()} без НДС")
    report = await run_import(uows, statement(doc))
    assert [line.outcome for line in report.lines] == ["applied"]
    paid = await reload(uows, row.number)
    assert (paid.status, paid.received) == (InvoiceStatus.PAID, row.total)
    after = await state(uows, owner.account_id)
    assert after["paid_through"] == add_months(TODAY, 3)  # as /prepay 3 moves it
    assert (after["payments"], after["ledger"], after["notices"]) == (1, 0, 1)
    async with uows() as uow:
        payment = (await uow.session.scalars(select(TariffPayment))).one()
    assert (payment.reference, payment.amount, payment.months) == (row.number, row.total, 3)
    # The same statement again, and one overlapping it: the known document changes nothing.
    again = await run_import(uows, statement(doc))
    assert [line.outcome for line in again.lines] == ["duplicate"]
    other = await issue(uows, owner, InvoiceKind.TOPUP, amount=500_00)
    overlapping = statement(doc, Doc("16", "500.00", f"по счёту {other.number}"))
    assert [line.outcome for line in (await run_import(uows, overlapping)).lines] == [
        "duplicate",
        "applied",
    ]
    final = await state(uows, owner.account_id)
    assert final["paid_through"] == add_months(TODAY, 3)
    assert (final["payments"], final["ledger"], final["bank"]) == (1, 500_00, 2)


async def test_overpayment_goes_to_the_balance_underpayment_waits_for_the_rest(uows):
    owner = await new_account(uows, tariff_code="start")
    over = await issue(uows, owner, months=1)
    under = await issue(uows, owner, months=1)
    report = await run_import(
        uows,
        statement(
            Doc("1", rub(over.total + 250_00), f"Счет {over.number}"),
            Doc("2", rub(1000_00), f"Счет {under.number}"),
        ),
    )
    assert [line.params["status"] for line in report.lines] == ["paid", "partly_paid"]
    assert report.lines[1].params["missing"] == under.total - 1000_00
    middle = await state(uows, owner.account_id)
    assert middle["ledger"] == 250_00  # the overpayment only: the part payment is held
    assert middle["paid_through"] == add_months(TODAY, 1)
    assert (await reload(uows, under.number)).status == InvoiceStatus.PARTLY_PAID
    rest = Doc("3", rub(under.total - 1000_00), f"Счет {under.number}", date="09.12.2026")
    await run_import(uows, statement(rest))
    done = await state(uows, owner.account_id)
    assert (await reload(uows, under.number)).status == InvoiceStatus.PAID
    assert done["paid_through"] == add_months(TODAY, 2) and done["ledger"] == 250_00
    async with uows() as uow:
        notices = [
            m.params
            for m in await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "invoice.payment")
            )
        ]
    assert [(n["status"], n["to_balance"]) for n in notices] == [
        ("paid", 250_00),
        ("partly_paid", 0),
        ("paid", 0),
    ]


async def test_underpayment_to_the_balance_by_setting_and_a_paid_top_up_credits(uows):
    owner = await new_account(uows)
    prepay = await issue(uows, owner, months=1)
    topup = await issue(uows, owner, InvoiceKind.TOPUP, amount=2_000_00)
    report = await run_import(
        uows,
        statement(
            Doc("1", "100.00", f"{prepay.number}"),
            Doc("2", "2000.00", f"{topup.number}"),
        ),
        underpayment="balance",
    )
    assert [line.outcome for line in report.lines] == ["applied", "applied"]
    assert (await reload(uows, prepay.number)).status == InvoiceStatus.ISSUED
    assert (await reload(uows, topup.number)).status == InvoiceStatus.PAID
    after = await state(uows, owner.account_id)
    assert after["ledger"] == 2_100_00 and after["paid_through"] is None


async def test_bad_documents_are_reported_and_nothing_is_applied(uows):
    owner = await new_account(uows)
    await requisites(uows, owner, *ROMASHKA)
    other = await new_account(uows, owner_tg=1001, name="Other")
    await requisites(uows, other, "ИП Иванов", "500123456750", None, None)
    mine = await issue(uows, owner, months=1)
    theirs = await issue(uows, other, months=1)
    cancelled = await issue(uows, owner, months=1)
    async with uows() as uow:
        await service.cancel_invoice(uow, cancelled.number, "issued by mistake")
    before = await state(uows, owner.account_id)
    report = await run_import(
        uows,
        statement(
            Doc("1", "12,500.00", f"{mine.number}"),  # malformed amount
            Doc("2", rub(mine.total), f"{mine.number}", recipient_account="40702810000000000999"),
            Doc("3", rub(cancelled.total), f"{cancelled.number}"),
            Doc("4", rub(theirs.total), f"{theirs.number}"),  # Ромашка pays Иванов's invoice
            Doc("5", "100.00", "за услуги"),
            Doc("6", "100.00", "Счет SD-2026-999999"),
        ),
    )
    outcomes = [(line.outcome, line.params.get("reason")) for line in report.lines]
    assert outcomes == [
        ("malformed", "doc_amount"),
        ("other_recipient", None),
        ("unmatched", "cancelled_invoice"),
        ("unmatched", "inn_mismatch"),
        ("unmatched", "no_number"),
        ("unmatched", "unknown_invoice"),
    ]
    after = await state(uows, owner.account_id)
    assert {**after, "bank": 0} == {**before, "bank": 0} and after["bank"] == 4
    assert (await reload(uows, theirs.number)).status == InvoiceStatus.ISSUED
    # The operator decides: Ромашка's payment was for the other account's invoice after all.
    theirs_payment = report.lines[3].params["id"]
    async with uows() as uow:
        _, invoice, applied = await assign_payment(
            uow,
            theirs_payment,
            reason="the payer phoned: paying for a partner",
            catalog=CATALOG,
            invoice_number=theirs.number.lower(),
        )
    assert invoice.status == InvoiceStatus.PAID and applied.paid_through is not None
    async with uows() as uow:
        entry = (
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "invoice.payment_assigned")
            )
        ).one()
    assert entry.reason == "the payer phoned: paying for a partner"
    assert entry.account_id == other.account_id
    with pytest.raises(Conflict):
        async with uows() as uow:
            await assign_payment(uow, theirs_payment, reason="again", catalog=CATALOG, account_id=1)
    with pytest.raises(InvalidInput):
        async with uows() as uow:
            await assign_payment(
                uow,
                report.lines[4].params["id"],
                reason=" ",
                catalog=CATALOG,
                account_id=owner.account_id,
            )
    async with uows() as uow:
        await assign_payment(
            uow,
            report.lines[4].params["id"],
            reason="no number; the owner confirmed",
            catalog=CATALOG,
            account_id=owner.account_id,
        )
    assert (await state(uows, owner.account_id))["ledger"] == 100_00


async def test_a_statement_imported_twice_at_once_applies_once(uows):
    owner = await new_account(uows, tariff_code="start")
    row = await issue(uows, owner, months=1)
    data = statement(Doc("77", rub(row.total), row.number))
    first, second = await asyncio.gather(run_import(uows, data), run_import(uows, data))
    outcomes = sorted(r.lines[0].outcome for r in (first, second))
    assert outcomes == ["applied", "duplicate"]
    after = await state(uows, owner.account_id)
    assert (after["payments"], after["bank"], after["paid_through"]) == (
        1,
        1,
        add_months(TODAY, 1),
    )


async def test_a_paid_invoice_can_not_be_cancelled(uows):
    owner = await new_account(uows, tariff_code="start")
    row = await issue(uows, owner, months=1)
    await run_import(uows, statement(Doc("1", rub(row.total), row.number)))
    with pytest.raises(Conflict) as refused:
        async with uows() as uow:
            await service.cancel_invoice(uow, row.number, "changed my mind")
    assert refused.value.code == "invoice_not_cancellable"
