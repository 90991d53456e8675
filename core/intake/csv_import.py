"""CSV import: parse a file, report every bad row by number, import all-or-nothing.

Columns (first row, any order, case-insensitive): number, customer, total are required;
phone, email, address, currency, comment, external_id, created_at are optional. Russian names
(номер, клиент, сумма, телефон, …) and the column names of Shopify's, WooCommerce's, Ecwid's,
Tilda's and InSales' own order exports are accepted too (ALIASES). Amounts are rubles ('1500',
'1500.50', '1 500,50'). Delimiter ';' or ','; encoding UTF-8 or cp1251.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.errors import Conflict, InvalidInput
from core.members.actor import Actor
from core.members.permissions import Perm
from core.orders import fields
from core.orders.models import Order, OrderSource
from core.orders.service import NewOrder, add_orders

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
REQUIRED = ("number", "customer", "total")
OPTIONAL = ("phone", "email", "address", "currency", "comment", "external_id", "created_at")
COLUMNS = REQUIRED + OPTIONAL

# Other names of the columns: Russian ones, and those of the platforms' order exports.
ALIASES = {
    "number": (
        "номер",
        "номер заказа",
        "№",
        "№ заказа",
        "order number",
        "order_number",
        "ordernumber",
        "order #",
        "orderid",
        "payment orderid",
    ),
    "customer": (
        "клиент",
        "покупатель",
        "фио",
        "имя",
        "имя клиента",
        "контактное лицо",
        "заказчик",
        "customer name",
        "billing name",
        "customer",
        "billing full name",
        "shipping name",
    ),
    "total": (
        "сумма",
        "итого",
        "сумма заказа",
        "стоимость",
        "order total",
        "total",
        "order amount",
        "amount",
        "total price",
        "total_price",
    ),
    "phone": (
        "телефон",
        "тел",
        "тел.",
        "телефон клиента",
        "billing phone",
        "phone",
        "customer phone",
        "shipping phone",
    ),
    "email": ("почта", "эл. почта", "e-mail", "email", "billing email", "customer email"),
    "address": (
        "адрес",
        "адрес доставки",
        "shipping address",
        "shipping street",
        "shipping address 1",
        "delivery address",
    ),
    "currency": ("валюта", "currency", "order currency"),
    "comment": (
        "комментарий",
        "примечание",
        "комментарий к заказу",
        "notes",
        "note",
        "customer note",
        "order comments",
        "comments",
    ),
    "external_id": ("внешний id", "id заказа", "order id", "id", "order_id"),
    "created_at": (
        "дата",
        "дата создания",
        "дата заказа",
        "created at",
        "created_at",
        "order date",
        "date",
        "date created",
    ),
}
_CANONICAL = {alias: column for column, aliases in ALIASES.items() for alias in aliases}


def canonical_columns(names: list[str]) -> list[str]:
    """Header names → our column names ("" for columns we do not read); the first column that
    means one of ours wins. Shopify's export calls the order number "Name" (next to "Billing
    Name"); elsewhere a bare "name" is the customer's."""
    shopify = "billing name" in names
    seen: set[str] = set()
    result = []
    for name in names:
        column = name if name in COLUMNS else _CANONICAL.get(name, "")
        if name == "name":
            column = "number" if shopify else "customer"
        if column in seen:
            column = ""
        seen.add(column)
        result.append(column)
    return result


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int  # line number in the file; the header is row 1
    order: NewOrder


@dataclass(frozen=True, slots=True)
class RejectedRow:
    row: int
    error: InvalidInput


@dataclass(frozen=True, slots=True)
class DuplicateRow:
    row: int
    number: str


@dataclass(frozen=True, slots=True)
class ParsedFile:
    rows: list[ParsedRow]
    rejected: list[RejectedRow]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    valid: int  # rows that can be imported (not duplicates, not rejected)
    imported: list[int] = field(default_factory=list)  # order ids, when committed
    duplicates: list[DuplicateRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def needs_confirmation(self) -> bool:
        """Some rows are bad: nothing was stored; the admin may import the valid ones."""
        return bool(self.rejected) and self.valid > 0 and not self.imported


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise InvalidInput("csv_too_big", limit=MAX_BYTES // 1024)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data.count(b"\x00") > len(data) // 4:
        # UTF-16/32 ("Unicode text" from Excel): cp1251 would read it as garbage without a
        # single column name, so say what is wrong with the file instead.
        raise InvalidInput("csv_encoding")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError:
        raise InvalidInput("csv_encoding") from None


def _delimiter(header: str) -> str:
    semicolons, commas = header.count(";"), header.count(",")
    if not semicolons and not commas:
        raise InvalidInput("csv_header", columns=", ".join(REQUIRED))
    return ";" if semicolons >= commas else ","


def _row(values: dict[str, str]) -> NewOrder:
    def get(name: str) -> str | None:
        return values.get(name)

    return NewOrder(
        number=fields.number(get("number"), "number"),
        customer_name=fields.text(get("customer"), "customer", limit=200),
        total=fields.amount(get("total"), "total"),
        customer_phone=fields.phone(get("phone"), "phone"),
        customer_email=fields.email(get("email"), "email"),
        customer_address=fields.text(get("address"), "address", limit=500, optional=True),
        currency=fields.currency(get("currency"), "currency"),
        comment=fields.text(get("comment"), "comment", limit=2000, optional=True),
        external_id=fields.text(get("external_id"), "external_id", limit=128, optional=True),
        placed_at=_moment(get("created_at")),
    )


def _moment(value: str | None):
    """ISO 8601 with an offset, or the exports' "2026-11-21 18:15:47 +0300"."""
    try:
        return fields.moment(value, "created_at")
    except InvalidInput:
        try:
            return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise InvalidInput("field_datetime", field="created_at") from None


def parse_csv(data: bytes) -> ParsedFile:
    text = decode(data).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InvalidInput("csv_empty")
    header_line = text.lstrip("\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(header_line))
    try:
        header = next(reader)
        while not any(h.strip() for h in header):
            header = next(reader)
        names = canonical_columns([" ".join(h.strip().lower().split()) for h in header])
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise InvalidInput("csv_columns", missing=", ".join(missing))
        rows, rejected = [], []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            line = reader.line_num
            if len(rows) + len(rejected) >= MAX_ROWS:
                raise InvalidInput("csv_too_many_rows", limit=MAX_ROWS)
            cells = {n: v for n, v in zip(names, values, strict=False) if n in COLUMNS}
            try:
                rows.append(ParsedRow(line, _row(cells)))
            except InvalidInput as exc:
                rejected.append(RejectedRow(line, exc))
    except StopIteration:
        raise InvalidInput("csv_empty") from None
    except csv.Error as exc:
        raise InvalidInput("csv_broken", row=reader.line_num, reason=str(exc)[:100]) from None
    return ParsedFile(rows, rejected)


async def _taken(uow: UnitOfWork, account_id: int, column, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        found |= set(
            await uow.session.scalars(
                select(column).where(Order.account_id == account_id, column.in_(chunk))
            )
        )
    return found


async def import_csv(
    uow: UnitOfWork, actor: Actor, data: bytes, *, accept_partial: bool = False
) -> ImportSummary:
    """All-or-nothing: with any rejected row nothing is stored unless `accept_partial`.
    Orders already in the account (same number or external id) are skipped as duplicates."""
    actor.require(Perm.ORDERS_CREATE)
    actor.require_writable()
    parsed = parse_csv(data)
    numbers = await _taken(
        uow, actor.account_id, Order.number, [r.order.number for r in parsed.rows]
    )
    external = await _taken(
        uow,
        actor.account_id,
        Order.external_id,
        [r.order.external_id for r in parsed.rows if r.order.external_id],
    )
    fresh, duplicates = [], []
    for parsed_row in parsed.rows:
        order = parsed_row.order
        if order.number in numbers or (order.external_id and order.external_id in external):
            duplicates.append(DuplicateRow(parsed_row.row, order.number))
            continue
        numbers.add(order.number)
        if order.external_id:
            external.add(order.external_id)
        fresh.append(order)
    summary = ImportSummary(len(fresh), [], duplicates, parsed.rejected)
    if not fresh or (parsed.rejected and not accept_partial):
        return summary
    account = await uow.session.get(Account, actor.account_id)
    try:
        orders = await add_orders(uow, account, fresh, OrderSource.CSV, actor.member_id)
    except IntegrityError:
        await uow.rollback()
        raise Conflict("csv_conflict") from None
    await uow.commit()
    return ImportSummary(len(fresh), [o.id for o in orders], duplicates, parsed.rejected)
