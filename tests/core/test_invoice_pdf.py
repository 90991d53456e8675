"""The invoice PDF: one A4 page whose text holds the bank block, the totals, the words and the
purpose to copy, in Russian and in English."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from core.invoices.operator import load_operator
from core.invoices.pdf import in_words, render_pdf
from core.invoices.service import _prepay_lines, _purpose
from core.tariff.catalog import load_catalog

OPERATOR = load_operator()


def sample(locale: str = "ru", vat_rate: str | None = None) -> dict:
    lines, total = _prepay_lines(load_catalog(), "standard", 5, 12)
    supplier = {**OPERATOR.details(), "vat_rate": vat_rate}
    return {
        "id": 1,
        "number": "SD-2026-000123",
        "kind": "prepay",
        "issued_on": "2026-12-07",
        "due_on": "2026-12-12",
        "total": total,
        "purpose": _purpose(OPERATOR, "SD-2026-000123", date(2026, 12, 7), total),
        "supplier": supplier,
        "payer": {
            "name": "ООО «Ромашка»",
            "inn": "5001007329",
            "kpp": "500101001",
            "address": "141000, Московская обл., г. Мытищи, ул. Садовая, д. 5",
        },
        "lines": lines,
        "locale": locale,
    }


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4, points
    return " ".join(reader.pages[0].extract_text().replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def russian() -> str:
    return text_of(render_pdf(sample()))


def test_the_russian_invoice_has_every_part(russian):
    assert "Счёт на оплату № SD-2026-000123 от 7 декабря 2026 г." in russian
    for bank in ("БИК", "044525225", "30101810400000000225", "40702810900000000001"):
        assert bank in russian
    assert "ИНН 7712345671" in russian and "КПП 771201001" in russian
    assert "ИНН 5001007329" in russian  # the payer
    assert "36 000,00" in russian and "9 120,00" in russian and "−6 768,00" in russian
    assert "Всего к оплате: 38 352,00" in russian
    assert "Без НДС (УСН, ст. 346.11 НК РФ)" in russian
    assert "Тридцать восемь тысяч триста пятьдесят два рубля 00 копеек" in russian
    assert (
        "Оплата по счёту № SD-2026-000123 от 07.12.2026 за услуги сервиса ShopDesk. Без НДС"
        in russian
    )


def test_vat_included_and_the_english_version():
    with_vat = text_of(render_pdf(sample(vat_rate="20")))
    assert "В том числе НДС 20 %: 6 392,00" in with_vat  # 38 352 × 20 / 120
    english = text_of(render_pdf(sample("en")))
    assert "Invoice No. SD-2026-000123 of 7 December 2026" in english
    assert "Amount due: 38 352,00" in english
    assert "Thirty-eight thousand, three hundred and fifty-two roubles, 00 kopeks" in english
    assert "BIC" in english and "Оплата по счёту № SD-2026-000123" in english


def test_amounts_in_words():
    assert in_words(1_01, "ru") == "Один рубль 01 копейка"
    assert in_words(21_05, "ru") == "Двадцать один рубль 05 копеек"
    assert in_words(1_000_000_99, "ru") == "Один миллион рублей 99 копеек"


def test_percentages_print_as_people_write_them():
    lines, _ = _prepay_lines(load_catalog(), "standard", 3, 6)
    assert lines[-1]["name_ru"] == "Скидка за предоплату 6 мес. (10 %)"  # not "1E+1 %"
