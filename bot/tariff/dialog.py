"""/prepay as a dialog: months → payment reference → confirm (with the paid-through date).

`/prepay 12 PAY-2026-117` (the one-line form) goes straight to the confirmation; `/prepay`
offers the periods, `/prepay 12` asks for the reference. The reference is required: it is what
keeps one payment from being recorded twice. Confirm is one call to `service.prepay`.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.invoices.router import invoice_instead
from bot.routing import FeatureRouter
from bot.tariff import render
from bot.tariff.callbacks import PrepayFormCb
from core.db.uow import UnitOfWork
from core.invoices.models import InvoiceKind
from core.invoices.operator import Operator
from core.ledger.service import clean_reference
from core.members.actor import Actor
from core.members.permissions import Perm
from core.tariff import service
from core.tariff.catalog import Catalog

TYPED = F.text & ~F.text.startswith("/")


class PrepayForm(StatesGroup):
    months = State()
    reference = State()
    confirm = State()


def _months(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 3 else None


async def _confirm(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
    catalog: Catalog,
    months: int,
    reference: str,
) -> None:
    preview = await service.preview_prepay(uow, actor, months, catalog)
    await state.set_state(PrepayForm.confirm)
    await state.set_data({"months": months, "reference": reference})
    text, markup = render.confirm_prepay(preview, reference)
    await message.answer(text, reply_markup=markup)


async def _ask_reference(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
    catalog: Catalog,
    months: int,
) -> None:
    preview = await service.preview_prepay(uow, actor, months, catalog)  # checks the period
    await state.set_state(PrepayForm.reference)
    await state.set_data({"months": months})
    text, markup = render.ask_prepay_reference(preview)
    await message.answer(text, reply_markup=markup)


async def cmd_prepay(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
    catalog: Catalog,
) -> None:
    actor.require(Perm.BILLING_MANAGE)
    first, _, rest = (command.args or "").strip().partition(" ")
    if not first:
        await state.set_state(PrepayForm.months)
        await state.set_data({})
        text, markup = render.ask_prepay_months(catalog)
        await message.answer(text, reply_markup=markup)
        return
    months = _months(first)
    if months is None:
        await message.answer(render.usage("prepay"))
        return
    reference = clean_reference(rest)
    if reference is None:
        await _ask_reference(message, state, uow, actor, catalog, months)
        return
    await _confirm(message, state, uow, actor, catalog, months, reference)


async def on_months(
    query: CallbackQuery,
    callback_data: PrepayFormCb,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
    catalog: Catalog,
) -> None:
    await _ask_reference(query.message, state, uow, actor, catalog, callback_data.months)


async def on_reference(
    message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor, catalog: Catalog
) -> None:
    data = await state.get_data()
    reference = clean_reference(message.text)
    if reference is None:
        await _ask_reference(message, state, uow, actor, catalog, data["months"])
        return
    await _confirm(message, state, uow, actor, catalog, data["months"], reference)


async def on_confirm(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, actor: Actor, catalog: Catalog
) -> None:
    data = await state.get_data()
    await state.clear()
    result = await service.prepay(uow, actor, data["months"], data["reference"], catalog)
    await query.message.edit_text(render.prepaid(result, actor.timezone))


async def on_invoice(
    query: CallbackQuery,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
    catalog: Catalog,
    operator: Operator,
) -> None:
    await invoice_instead(query, state, uow, actor, catalog, operator, InvoiceKind.PREPAY)


async def on_stale(query: CallbackQuery) -> None:
    """A button pressed after the dialog ended (done, cancelled, or another /prepay)."""
    await query.message.edit_text(render.prepay_gone())


async def on_cancel(event: Message | CallbackQuery, state: FSMContext) -> None:
    had_form = (await state.get_state() or "").startswith(PrepayForm.__full_group_name__)
    await state.clear()
    if isinstance(event, CallbackQuery):
        await event.message.edit_text(render.prepay_cancelled(had_form))
    else:
        await event.answer(render.prepay_cancelled(had_form))


async def on_not_text(message: Message) -> None:
    await message.answer(render.prepay_not_text())


def build_router() -> Router:
    router = FeatureRouter(name="tariff-dialog")
    router.message.register(cmd_prepay, Command("prepay"))
    router.message.register(on_cancel, Command("cancel"), StateFilter(PrepayForm))
    router.callback_query.register(
        on_cancel, PrepayFormCb.filter(F.cancel), StateFilter(PrepayForm)
    )
    router.callback_query.register(
        on_months, PrepayFormCb.filter(F.months > 0), StateFilter(PrepayForm.months)
    )
    router.callback_query.register(
        on_confirm, PrepayFormCb.filter(F.months == 0), StateFilter(PrepayForm.confirm)
    )
    router.callback_query.register(
        on_invoice, PrepayFormCb.filter(F.invoice), StateFilter(PrepayForm.reference)
    )
    router.callback_query.register(on_stale, PrepayFormCb.filter())
    router.message.register(on_reference, StateFilter(PrepayForm.reference), TYPED)
    router.message.register(
        on_not_text,
        StateFilter(PrepayForm.months, PrepayForm.reference, PrepayForm.confirm),
        ~F.text,
    )
    return router
