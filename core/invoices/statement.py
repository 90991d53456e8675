"""Bank statements in the 1C client-bank exchange format (`1CClientBankExchange`).

A text file, Windows-1251 (`Кодировка=Windows`) or DOS-866 (`Кодировка=DOS`), CRLF or LF line
ends: a header of `Key=Value` lines, then one block per bank document from
`СекцияДокумент=Платежное поручение` to `КонецДокумента`, and `КонецФайла` at the end. Only the
document's identity and the fields reconciliation needs are read; every problem of a document
is its own report line, and a problem of the file as a whole is an `InvalidInput`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from core.errors import InvalidInput
from core.money import AmountError, parse_money

MAGIC = "1CClientBankExchange"
MAX_BYTES = 10 * 1024 * 1024  # a year of a small business's statement is well below this
MAX_AMOUNT = 10_000_000_00  # kopecks: one bank document of 10 million rubles at most
ENCODINGS = {"windows": "cp1251", "dos": "cp866"}
_DOCUMENT_NUMBER = re.compile(r"[0-9A-Za-zА-Яа-я/_-]{1,40}")


@dataclass(frozen=True, slots=True)
class BankDocument:
    number: str
    on: date
    amount: int  # kopecks
    payer_name: str | None
    payer_inn: str | None
    payer_account: str | None
    recipient_account: str | None
    purpose: str | None

    @property
    def key(self) -> str:
        """The document's identity: it applies once ever, whichever statement brings it."""
        return f"{self.number}|{self.on.isoformat()}|{self.payer_account or '-'}|{self.amount}"


@dataclass(frozen=True, slots=True)
class BadDocument:
    """A block that can't be read: `reason` is a stable code, `number` as far as it is known."""

    index: int  # 1-based, in the file
    number: str | None
    reason: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    documents: list[BankDocument | BadDocument]
    truncated: bool  # no КонецФайла: documents after the cut are missing


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise InvalidInput("statement_too_big", limit=MAX_BYTES // (1024 * 1024))
    head = data[:400]
    if not head.lstrip(b"\xef\xbb\xbf").startswith(MAGIC.encode()):
        raise InvalidInput("statement_format")
    declared = re.search(rb"\r?\n\s*\xca\xee\xe4\xe8\xf0\xee\xe2\xea\xe0\s*=\s*(\w+)", head)
    encoding = "cp1251"
    if declared is not None:
        encoding = ENCODINGS.get(declared.group(1).decode("ascii", "replace").lower(), "cp1251")
    elif b"\xd0\x9a\xd0\xbe\xd0\xb4\xd0\xb8\xd1\x80\xd0\xbe\xd0\xb2\xd0\xba\xd0\xb0" in head:
        # "Кодировка" in UTF-8: the file was re-saved in another encoding than it says.
        raise InvalidInput("statement_encoding")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise InvalidInput("statement_encoding") from None
    if "СекцияДокумент" not in text and "КонецФайла" not in text:
        raise InvalidInput("statement_encoding")
    return text.lstrip("\ufeff")


def _fields(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def _document(index: int, fields: dict[str, str]) -> BankDocument | BadDocument:
    number = fields.get("Номер", "").strip() or None
    if number is None or not _DOCUMENT_NUMBER.fullmatch(number):
        return BadDocument(index, None, "doc_number", number)
    try:
        on = datetime.strptime(fields.get("Дата", ""), "%d.%m.%Y").date()
    except ValueError:
        return BadDocument(index, number, "doc_date", fields.get("Дата"))
    raw = fields.get("Сумма", "")
    try:
        amount = parse_money(raw, maximum=MAX_AMOUNT) if re.fullmatch(r"[0-9.,]+", raw) else -1
    except AmountError:
        amount = -1
    if amount <= 0:
        return BadDocument(index, number, "doc_amount", raw[:40])

    def field(*names: str, limit: int = 300) -> str | None:
        for name in names:
            value = " ".join(fields.get(name, "").split())
            if value:
                return value[:limit]
        return None

    return BankDocument(
        number=number,
        on=on,
        amount=amount,
        payer_name=field("Плательщик1", "Плательщик"),
        payer_inn=field("ПлательщикИНН", limit=12),
        payer_account=field("ПлательщикСчет", "ПлательщикРасчСчет", limit=34),
        recipient_account=field("ПолучательСчет", "ПолучательРасчСчет", limit=34),
        purpose=field("НазначениеПлатежа", limit=500),
    )


def _cut(index: int, block: list[str]) -> BadDocument:
    """A document without its КонецДокумента: the file was cut (or mangled) inside it."""
    return BadDocument(index, _fields(block).get("Номер"), "doc_truncated")


def parse_statement(data: bytes) -> Statement:
    """Every document block of the file, read or refused one by one."""
    lines = _decode(data).splitlines()
    documents: list[BankDocument | BadDocument] = []
    block: list[str] | None = None
    ended = False
    for raw in lines:
        line = raw.strip()
        if line.startswith("СекцияДокумент"):
            if block is not None:  # a document never closed: cut off before the next one
                documents.append(
                    BadDocument(len(documents) + 1, _fields(block).get("Номер"), "doc_truncated")
                )
            block = []
        elif line == "КонецДокумента":
            if block is not None:
                documents.append(_document(len(documents) + 1, _fields(block)))
            block = None
        elif line == "КонецФайла":
            ended = True
            break
        elif block is not None:
            block.append(line)
    if block is not None:
        documents.append(
            BadDocument(len(documents) + 1, _fields(block).get("Номер"), "doc_truncated")
        )
    return Statement(documents, truncated=not ended)
