"""/requisites (the payer's details), /invoices (list, new prepay or top-up invoice, the PDF
again), and the operator's bank statement sent to the bot in the operator chat."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.invoices import render
from bot.invoices.callbacks import InvoicePdfCb
from bot.routing import FeatureRouter
from core.db.uow import UnitOfWork
from core.errors import InvalidInput
from core.invoices import service
from core.invoices.models import Invoice, InvoiceKind
from core.invoices.operator import Operator
from core.invoices.pdf import render_pdf
from core.invoices.reconcile import import_statement
from core.invoices.statement import MAX_BYTES
from core.ledger.service import MAX_TOP_UP
from core.members.actor import Actor
from core.money import parse_money
from core.settings import Settings
from core.tariff.catalog import Catalog


async def cmd_requisites(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    args = (command.args or "").strip()
    if not args:
        await message.answer(render.requisites(await service.show_requisites(uow, actor)))
        return
    if args.casefold() in ("clear", "удалить", "очистить"):
        await message.answer(render.requisites_cleared(await service.clear_requisites(uow, actor)))
        return
    parts = [part.strip() for part in args.split(";")]
    inn, name, rest = parts[0], (parts[1] if len(parts) > 1 else ""), parts[2:]
    company = len("".join(inn.split())) == 10
    kpp = rest[0] if company and rest else None
    address = "; ".join(rest[1:] if company else rest) or None
    details = service.check_requisites(name, inn, kpp, address)
    saved = await service.set_requisites(uow, actor, details)
    await message.answer(render.requisites_saved(saved))


async def send_invoice_pdf(message: Message, row: Invoice) -> None:
    """Answers with the invoice as its PDF and the caption to pay it (the /prepay and /topup
    dialogs may end here too)."""
    doc = service.document(row)
    data = await asyncio.to_thread(render_pdf, doc)
    await message.answer_document(render.pdf_file(row.number, data), caption=render.caption(doc))


async def invoice_instead(
    query: CallbackQuery,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
    catalog: Catalog,
    operator: Operator,
    kind: InvoiceKind,
) -> None:
    """A payment dialog's 📄 Invoice (/topup, /prepay): not paid yet, so the invoice for what the
    dialog holds (its `amount` or `months`) instead of a recorded payment; the dialog ends. The
    bank statement's import applies it once paid."""
    data = await state.get_data()
    await state.clear()
    row = await service.issue_invoice(
        uow,
        actor,
        kind,
        operator=operator,
        catalog=catalog,
        months=data.get("months"),
        amount=data.get("amount"),
    )
    await query.message.edit_reply_markup(reply_markup=None)
    await send_invoice_pdf(query.message, row)


async def cmd_invoices(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    actor: Actor,
    catalog: Catalog,
    operator: Operator,
) -> None:
    what, _, rest = (command.args or "").strip().partition(" ")
    what, rest = what.casefold(), rest.strip()
    if not what:
        text, markup = render.invoice_list(await service.list_invoices(uow, actor))
        await message.answer(text, reply_markup=markup)
        return
    if what == "prepay" and rest.isdigit() and len(rest) <= 3:
        row = await service.issue_invoice(
            uow, actor, InvoiceKind.PREPAY, operator=operator, catalog=catalog, months=int(rest)
        )
    elif what == "topup" and rest:
        amount = parse_money(rest, maximum=MAX_TOP_UP)
        row = await service.issue_invoice(
            uow, actor, InvoiceKind.TOPUP, operator=operator, catalog=catalog, amount=amount
        )
    else:
        await message.answer(render.invoices_usage())
        return
    await send_invoice_pdf(message, row)


async def on_invoice_pdf(
    query: CallbackQuery, callback_data: InvoicePdfCb, uow: UnitOfWork, actor: Actor
) -> None:
    row = await service.get_invoice(uow, actor, callback_data.invoice_id)
    await send_invoice_pdf(query.message, row)


class OperatorChat(Filter):
    """A file sent in the chat OPERATOR_CHAT_ID names: the operator's own, where statements are
    imported. A coroutine, not a magic filter (aiogram runs those in a worker thread), checked
    for every message."""

    async def __call__(self, message: Message, settings: Settings) -> bool:
        return (
            message.document is not None
            and settings.operator_chat_id is not None
            and message.chat.id == settings.operator_chat_id
        )


async def on_statement(
    message: Message,
    bot: Bot,
    uow: UnitOfWork,
    catalog: Catalog,
    operator: Operator,
    settings: Settings,
) -> None:
    document = message.document
    if (document.file_size or 0) > MAX_BYTES:
        raise InvalidInput("statement_too_big", limit=MAX_BYTES // (1024 * 1024))
    data = (await bot.download(document.file_id)).read()
    result = await import_statement(
        uow,
        data,
        operator=operator,
        catalog=catalog,
        underpayment=settings.invoice_underpayment,
    )
    await message.answer(render.report(result), parse_mode=None)


def build_router() -> Router:
    router = FeatureRouter(name="invoices")
    router.message.register(cmd_requisites, Command("requisites"))
    router.message.register(cmd_invoices, Command("invoices"))
    router.callback_query.register(on_invoice_pdf, InvoicePdfCb.filter())
    return router


def build_operator_router() -> Router:
    """Before the member routers: a statement sent in the operator chat is never a member's
    CSV import, whoever the operator is."""
    router = FeatureRouter(name="invoices-operator")
    router.message.register(on_statement, OperatorChat())
    return router
