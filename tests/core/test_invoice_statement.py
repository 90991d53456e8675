"""The 1C statement reader, INN check digits and the invoice number in a purpose (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import InvalidInput
from core.invoices.inn import clean_inn, inn_is_valid
from core.invoices.service import check_requisites, find_number
from core.invoices.statement import MAX_BYTES, BadDocument, BankDocument, parse_statement
from tests.support.statements import Doc, statement, statement_text


def test_one_payment_statement_cp1251_crlf():
    data = statement(Doc("15", "12500.00", "Оплата по счёту № SD-2026-000123 от 07.12.2026"))
    assert b"\r\n" in data and "Секция".encode("cp1251") in data
    parsed = parse_statement(data)
    assert not parsed.truncated
    [doc] = parsed.documents
    assert doc == BankDocument(
        number="15",
        on=date(2026, 12, 8),
        amount=12_500_00,
        payer_name="ООО «Ромашка»",
        payer_inn="5001007329",
        payer_account="40702810500000012345",
        recipient_account="40702810900000000001",
        purpose="Оплата по счёту № SD-2026-000123 от 07.12.2026",
    )
    assert doc.key == "15|2026-12-08|40702810500000012345|1250000"


def test_many_payments_and_each_bad_block_is_its_own_line():
    data = statement(
        Doc("1", "100.50", "a"),
        Doc("2", "12,500.00", "malformed amount"),
        Doc("3", "300", "b", date="31.02.2026"),
        Doc("4", "7.5", "c"),
    )
    docs = parse_statement(data).documents
    assert [type(d).__name__ for d in docs] == [
        "BankDocument",
        "BadDocument",
        "BadDocument",
        "BankDocument",
    ]
    assert docs[0].amount == 100_50 and docs[3].amount == 7_50
    assert (docs[1].reason, docs[1].value) == ("doc_amount", "12,500.00")
    assert docs[2].reason == "doc_date"


def test_a_truncated_file_reports_the_cut_document():
    full = statement_text(Doc("1", "100.00", "a"), Doc("2", "200.00", "b"))
    cut = full[: full.rindex("НазначениеПлатежа")].encode("cp1251")
    parsed = parse_statement(cut)
    assert parsed.truncated
    assert isinstance(parsed.documents[0], BankDocument)
    assert parsed.documents[1] == BadDocument(2, "2", "doc_truncated")


def test_the_file_as_a_whole_is_refused_when_it_is_not_a_statement():
    utf8 = statement_text(Doc("1", "100.00", "a")).encode("utf-8")
    with pytest.raises(InvalidInput) as wrong_encoding:
        parse_statement(utf8)
    assert wrong_encoding.value.code == "statement_encoding"
    with pytest.raises(InvalidInput) as not_1c:
        parse_statement("Дата;Сумма\r\n01.12.2026;100\r\n".encode("cp1251"))
    assert not_1c.value.code == "statement_format"
    with pytest.raises(InvalidInput) as too_big:
        parse_statement(b"1CClientBankExchange\r\n" + b" " * (20 * 1024 * 1024))
    assert too_big.value.code == "statement_too_big" and MAX_BYTES < 20 * 1024 * 1024


@pytest.mark.parametrize(
    "purpose",
    [
        "Оплата по счету № SD-2026-000123 от 07.12.2026, без НДС",
        "оплата сч.№sd-2026-000123",
        "Оплата по счёту SD 2026 000123",
        "по счету №SD–2026–123 за декабрь",
        "Счет SD-2026-00012 3",
    ],
)
def test_the_invoice_number_is_found_however_it_is_written(purpose):
    assert find_number(purpose, "SD") == "SD-2026-000123"


def test_no_number_in_a_purpose():
    assert find_number("Оплата за услуги", "SD") is None
    assert find_number(None, "SD") is None


def test_inn_check_digits():
    assert inn_is_valid("7707083893") and inn_is_valid("500123456750")
    assert not inn_is_valid("7707083894") and not inn_is_valid("500123456751")
    assert clean_inn(" 7707 083 893 ") == "7707083893"
    with pytest.raises(InvalidInput) as wrong:
        clean_inn("7707083894")
    assert (wrong.value.code, wrong.value.params) == ("inn_checksum", {"value": "7707083894"})
    with pytest.raises(InvalidInput) as short:
        clean_inn("12345")
    assert short.value.code == "inn_format"


def test_a_company_needs_a_kpp_a_sole_trader_has_none():
    with pytest.raises(InvalidInput) as missing:
        check_requisites("ООО «Ромашка»", "7707083893", None, None)
    assert missing.value.code == "kpp_required"
    trader = check_requisites("ИП Иванов", "500123456750", "770701001", "Москва")
    assert trader.kpp is None and not trader.company
    with pytest.raises(InvalidInput) as bad_kpp:
        check_requisites("ООО", "7707083893", "77070100", None)
    assert bad_kpp.value.code == "kpp_format"
