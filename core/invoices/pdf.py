"""The invoice as a one-page A4 PDF in the usual layout of a Russian invoice (счёт на оплату).

Rendered from the invoice's stored document (`service.document`), so it shows what was issued.
The font is DejaVu Sans as matplotlib ships it (core/fonts.py): no system fonts. The
printed words are the document's own, in Russian or English by the invoice's language.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from core.fonts import dejavu_sans
from core.invoices.service import vat_included
from core.money import grouped

MONTHS_RU = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

LABELS = {
    "ru": {
        "bank": "Банк получателя",
        "bik": "БИК",
        "acc": "Сч. №",
        "inn": "ИНН",
        "kpp": "КПП",
        "recipient": "Получатель",
        "title": "Счёт на оплату № {number} от {date}",
        "supplier": "Поставщик\n(Исполнитель):",
        "payer": "Покупатель\n(Заказчик):",
        "basis": "Основание:",
        "basis_text": "Оплата услуг {service}",
        "head": ("№", "Товары (работы, услуги)", "Кол-во", "Ед.", "Цена", "Сумма"),
        "total": "Итого:",
        "vat_in": "В том числе НДС {rate} %:",
        "no_vat": "Без НДС ({note}):",
        "to_pay": "Всего к оплате:",
        "count": "Всего наименований {count}, на сумму {total} руб.",
        "due": "Оплатить не позднее {date}. Оплата этого счёта означает согласие с условиями "
        "оказания услуг.",
        "purpose": "Назначение платежа (скопируйте целиком, с номером счёта):",
        "head_sign": "Руководитель",
    },
    "en": {
        "bank": "Recipient's bank",
        "bik": "BIC",
        "acc": "Acc.",
        "inn": "INN",
        "kpp": "KPP",
        "recipient": "Recipient",
        "title": "Invoice No. {number} of {date}",
        "supplier": "Supplier:",
        "payer": "Customer:",
        "basis": "Basis:",
        "basis_text": "Payment for {service}",
        "head": ("No.", "Goods (works, services)", "Qty", "Unit", "Price", "Amount"),
        "total": "Total:",
        "vat_in": "Including VAT {rate} %:",
        "no_vat": "No VAT ({note}):",
        "to_pay": "Amount due:",
        "count": "Items: {count}, amount {total} RUB.",
        "due": "Payable by {date}. Paying this invoice means accepting the terms of service.",
        "purpose": "Payment purpose (copy it whole, with the invoice number):",
        "head_sign": "Director",
    },
}


def long_date(value: date, lang: str) -> str:
    if lang == "en":
        return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day} {MONTHS_RU[value.month - 1]} {value.year} г."


def in_words(kopecks: int, lang: str) -> str:
    """12 500,50 → 'Двенадцать тысяч пятьсот рублей 50 копеек' (kopecks in digits, as usual)."""
    from num2words import num2words  # imported when an invoice is printed, not at start

    words = num2words(
        Decimal(kopecks) / 100,
        lang=lang,
        to="currency",
        currency="RUB",
        cents=False,
        separator="" if lang == "ru" else ",",
    )
    return words[:1].upper() + words[1:]


def _party(details: dict[str, Any], lang: str, labels: dict[str, str]) -> str:
    name = details.get("name_en") if lang == "en" and details.get("name_en") else details["name"]
    parts = [name]
    if details.get("inn"):
        parts.append(f"{labels['inn']} {details['inn']}")
    if details.get("kpp"):
        parts.append(f"{labels['kpp']} {details['kpp']}")
    address = details.get("address_en") if lang == "en" else None
    address = address or details.get("address")
    if address:
        parts.append(address)
    return ", ".join(parts)


def _page():
    """A blank A4 page with the font loaded; fpdf2 (with numpy, PIL and fontTools, ≈40 MB) is
    imported when an invoice is printed, never at the bot's start."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(dejavu_sans()))
    pdf.add_font("DejaVu", "B", str(dejavu_sans(bold=True)))
    pdf.set_auto_page_break(False)
    pdf.set_margins(15, 12, 15)
    pdf.add_page()
    return pdf


def _text_at(pdf, x: float, y: float, w: float, text: str, size: float, bold: bool = False):
    pdf.set_font("DejaVu", "B" if bold else "", size)
    pdf.set_xy(x, y)
    pdf.multi_cell(w, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")


def render_pdf(doc: dict[str, Any]) -> bytes:
    lang = "en" if doc.get("locale") == "en" else "ru"
    labels = LABELS[lang]
    supplier = doc["supplier"]
    issued = date.fromisoformat(doc["issued_on"])
    due = date.fromisoformat(doc["due_on"])
    total = doc["total"]
    from fpdf.fonts import FontFace

    pdf = _page()
    pdf.set_title(labels["title"].format(number=doc["number"], date=long_date(issued, lang)))
    pdf.set_author(supplier["name"])
    pdf.set_line_width(0.25)

    # The recipient's bank details, in the grid every Russian bank client knows.
    x, y, width = 15.0, 12.0, 180.0
    left, label = 100.0, 16.0
    value = width - left - label
    upper, lower = 15.0, 17.0
    pdf.rect(x, y, width, upper + lower)
    pdf.line(x, y + upper, x + width, y + upper)
    pdf.line(x + left, y, x + left, y + upper + lower)
    pdf.line(x + left + label, y, x + left + label, y + upper + lower)
    pdf.line(x + left, y + 5.5, x + width, y + 5.5)
    pdf.line(x, y + upper + 5.5, x + left, y + upper + 5.5)
    pdf.line(x + left / 2, y + upper, x + left / 2, y + upper + 5.5)
    _text_at(pdf, x + 1, y + 1.2, left - 2, supplier["bank"], 8.5)
    _text_at(pdf, x + 1, y + upper - 4, left - 2, labels["bank"], 6.5)
    _text_at(pdf, x + left + 1, y + 1.2, label - 2, labels["bik"], 8.5)
    _text_at(pdf, x + left + label + 1, y + 1.2, value - 2, supplier["bik"], 8.5)
    _text_at(pdf, x + left + 1, y + 6.7, label - 2, labels["acc"], 8.5)
    _text_at(pdf, x + left + label + 1, y + 6.7, value - 2, supplier["corr_account"], 8.5)
    _text_at(pdf, x + 1, y + upper + 1.2, left / 2 - 2, f"{labels['inn']} {supplier['inn']}", 8.5)
    kpp = f"{labels['kpp']} {supplier['kpp']}" if supplier.get("kpp") else labels["kpp"]
    _text_at(pdf, x + left / 2 + 1, y + upper + 1.2, left / 2 - 2, kpp, 8.5)
    name = supplier["name_en"] if lang == "en" else supplier["name"]
    _text_at(pdf, x + 1, y + upper + 6.5, left - 2, name, 8.5)
    _text_at(pdf, x + 1, y + upper + lower - 4, left - 2, labels["recipient"], 6.5)
    _text_at(pdf, x + left + 1, y + upper + 1.2, label - 2, labels["acc"], 8.5)
    _text_at(pdf, x + left + label + 1, y + upper + 1.2, value - 2, supplier["account"], 8.5)

    # Title, the parties, the basis.
    y += upper + lower + 7
    title = labels["title"].format(number=doc["number"], date=long_date(issued, lang))
    _text_at(pdf, x, y, width, title, 13.5, bold=True)
    y = pdf.get_y() + 1.5
    pdf.set_line_width(0.8)
    pdf.line(x, y, x + width, y)
    pdf.set_line_width(0.25)
    y += 3
    payer = doc.get("payer") or {}
    parties = (
        (labels["supplier"], _party(supplier, lang, labels)),
        (labels["payer"], _party(payer, lang, labels) if payer else ""),
        (labels["basis"], labels["basis_text"].format(service=_service(doc, lang))),
    )
    for caption, text in parties:
        _text_at(pdf, x, y, 30, caption, 8.5)
        after_caption = pdf.get_y()
        _text_at(pdf, x + 31, y, width - 31, text, 8.5, bold=True)
        y = max(after_caption, pdf.get_y()) + 2.5

    # The lines.
    pdf.set_xy(x, y + 1)
    pdf.set_font("DejaVu", "", 8.5)
    with pdf.table(
        width=width,
        col_widths=(8, 90, 14, 22, 22, 24),
        text_align=("CENTER", "LEFT", "RIGHT", "CENTER", "RIGHT", "RIGHT"),
        line_height=4.6,
        headings_style=FontFace(emphasis="BOLD"),
        padding=1,
        align="LEFT",
    ) as table:
        heading = table.row()
        for title_cell in labels["head"]:
            heading.cell(title_cell, align="CENTER")
        for index, line in enumerate(doc["lines"], start=1):
            row = table.row()
            row.cell(str(index))
            row.cell(line["name_en"] if lang == "en" else line["name_ru"])
            row.cell(str(line["quantity"]))
            row.cell(line["unit_en"] if lang == "en" else line["unit_ru"])
            row.cell(grouped(line["price"]))
            row.cell(grouped(line["amount"]))
    y = pdf.get_y() + 2

    # Totals, VAT, the total in words.
    rate = supplier.get("vat_rate")
    if rate is None:
        vat_label = labels["no_vat"].format(note=supplier.get("vat_note") or "")
        vat_value = "—"
    else:
        vat_label = labels["vat_in"].format(rate=f"{Decimal(rate).normalize():f}")
        vat_value = grouped(vat_included(total, Decimal(rate)))
    for caption, amount in (
        (labels["total"], grouped(total)),
        (vat_label, vat_value),
        (labels["to_pay"], grouped(total)),
    ):
        pdf.set_font("DejaVu", "B", 9)
        pdf.set_xy(x, y)
        pdf.cell(width - 26, 5, caption, align="R")
        pdf.cell(26, 5, amount, align="R")
        y += 5.2
    y += 2
    count = labels["count"].format(count=len(doc["lines"]), total=grouped(total))
    _text_at(pdf, x, y, width, count, 8.5)
    _text_at(pdf, x, pdf.get_y() + 0.5, width, in_words(total, lang), 9.5, bold=True)
    y = pdf.get_y() + 3
    _text_at(pdf, x, y, width, labels["due"].format(date=due.strftime("%d.%m.%Y")), 8)

    # The purpose to copy, framed.
    y = pdf.get_y() + 4
    _text_at(pdf, x, y, width, labels["purpose"], 8)
    top = pdf.get_y() + 1
    _text_at(pdf, x + 2, top + 2, width - 4, doc["purpose"], 10, bold=True)
    bottom = pdf.get_y() + 2
    pdf.set_line_width(0.5)
    pdf.rect(x, top, width, bottom - top)
    pdf.set_line_width(0.8)
    y = bottom + 8
    pdf.line(x, y, x + width, y)

    # Signature line.
    y += 8
    pdf.set_line_width(0.25)
    _text_at(pdf, x, y, 35, labels["head_sign"], 9, bold=True)
    pdf.line(x + 35, y + 4, x + 95, y + 4)
    if supplier.get("signer"):
        _text_at(pdf, x + 98, y, 80, supplier["signer"], 9)
    return bytes(pdf.output())


def _service(doc: dict[str, Any], lang: str) -> str:
    """What the invoice is for, in a few words (the basis line)."""
    if doc.get("kind") == "topup":
        return "ShopDesk (balance top-up)" if lang == "en" else "ShopDesk (пополнение баланса)"
    return "ShopDesk (tariff)" if lang == "en" else "ShopDesk (тариф)"
