"""Bank statements in the exact 1C client-bank exchange format, written by the tests."""

from __future__ import annotations

from dataclasses import dataclass

OPERATOR_ACCOUNT = "40702810900000000001"  # core/tariff/operator.toml
PAYER_ACCOUNT = "40702810500000012345"


@dataclass
class Doc:
    number: str
    amount: str  # as the bank writes it: 12500.00
    purpose: str
    date: str = "08.12.2026"
    payer_inn: str = "5001007329"
    payer: str = "ООО «Ромашка»"
    payer_account: str = PAYER_ACCOUNT
    recipient_account: str = OPERATOR_ACCOUNT


def block(doc: Doc) -> list[str]:
    return [
        "СекцияДокумент=Платежное поручение",
        f"Номер={doc.number}",
        f"Дата={doc.date}",
        f"Сумма={doc.amount}",
        f"ПлательщикСчет={doc.payer_account}",
        f"ДатаСписано={doc.date}",
        f"Плательщик=ИНН {doc.payer_inn} {doc.payer}",
        f"ПлательщикИНН={doc.payer_inn}",
        f"Плательщик1={doc.payer}",
        f"ПлательщикРасчСчет={doc.payer_account}",
        "ПлательщикБанк1=АО «АЛЬФА-БАНК»",
        "ПлательщикБИК=044525593",
        "ПлательщикКорсчет=30101810200000000593",
        f"ПолучательСчет={doc.recipient_account}",
        f"ДатаПоступило={doc.date}",
        "Получатель=ИНН 7712345671 ООО «ШопДеск»",
        "ПолучательИНН=7712345671",
        "Получатель1=ООО «ШопДеск»",
        f"ПолучательРасчСчет={doc.recipient_account}",
        "ПолучательБанк1=ПАО Сбербанк",
        "ПолучательБИК=044525225",
        "ПолучательКорсчет=30101810400000000225",
        "ВидОплаты=01",
        "Очередность=5",
        f"НазначениеПлатежа={doc.purpose}",
        "КонецДокумента",
    ]


def statement_text(*docs: Doc, end: bool = True, encoding_line: str = "Windows") -> str:
    lines = [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        f"Кодировка={encoding_line}",
        "Отправитель=Сбербанк Бизнес Онлайн",
        "Получатель=",
        "ДатаСоздания=09.12.2026",
        "ВремяСоздания=10:15:00",
        "ДатаНачала=01.12.2026",
        "ДатаКонца=09.12.2026",
        f"РасчСчет={OPERATOR_ACCOUNT}",
        "Документ=Платежное поручение",
        "СекцияРасчСчет",
        "ДатаНачала=01.12.2026",
        "ДатаКонца=09.12.2026",
        f"РасчСчет={OPERATOR_ACCOUNT}",
        "НачальныйОстаток=0.00",
        "ВсегоПоступило=0.00",
        "ВсегоСписано=0.00",
        "КонечныйОстаток=0.00",
        "КонецРасчСчет",
    ]
    for doc in docs:
        lines += block(doc)
    if end:
        lines.append("КонецФайла")
    return "\r\n".join(lines) + "\r\n"


def statement(*docs: Doc, end: bool = True) -> bytes:
    """cp1251 with CRLF line ends, as banks export it."""
    return statement_text(*docs, end=end).encode("cp1251")
