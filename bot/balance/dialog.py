"""/topup as a dialog: amount → payment reference → confirm (with the balance it gives).

`/topup 12 500,50 PP-1042` (the one-line form) goes straight to the confirmation; `/topup` asks
for the amount, `/topup 12500` for the reference. The reference is required: it is what keeps
one payment from being credited twice. Confirm is one call to `billing.top_up`.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.balance import render
from bot.balance.callbacks import FormAction, TopUpFormCb
from bot.invoices.router import invoice_instead
from bot.routing import FeatureRouter
from core.db.uow import UnitOfWork
from core.invoices.models import InvoiceKind
from core.invoices.operator import Operator
from core.journal import billing
from core.ledger.service import MAX_TOP_UP, clean_reference
from core.members.actor import Actor
from core.members.permissions import Perm
from core.money import parse_money, split_amount
from core.tariff.catalog import Catalog

TYPED = F.text & ~F.text.startswith("/")


class TopUpForm(StatesGroup):
    amount = State()
    reference = State()
    confirm = State()


async def _confirm(
    message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor, amount: int, reference: str
) -> None:
    preview = await billing.preview_top_up(uow, actor, amount)
    await state.set_state(TopUpForm.confirm)
    await state.set_data({"amount": amount, "reference": reference})
    text, markup = render.confirm_top_up(preview, reference)
    await message.answer(text, reply_markup=markup)


async def _ask_reference(
    message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor, amount: int
) -> None:
    await billing.preview_top_up(uow, actor, amount)  # the amount's and the permission's check
    await state.set_state(TopUpForm.reference)
    await state.set_data({"amount": amount})
    text, markup = render.ask_reference(amount)
    await message.answer(text, reply_markup=markup)


async def cmd_topup(
    message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, actor: Actor
) -> None:
    actor.require(Perm.BILLING_MANAGE)
    args = (command.args or "").strip()
    if not args:
        await state.set_state(TopUpForm.amount)
        await state.set_data({})
        text, markup = render.ask_amount()
        await message.answer(text, reply_markup=markup)
        return
    # '12 500,50 PP-1042': the amount (however grouped) and the reference; AmountError → errors
    parsed = split_amount(args, maximum=MAX_TOP_UP)
    if parsed is None:
        await message.answer(render.usage())
        return
    reference = clean_reference(parsed.rest)
    if reference is None:
        await _ask_reference(message, state, uow, actor, parsed.amount)
        return
    await _confirm(message, state, uow, actor, parsed.amount, reference)


async def on_amount(message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor) -> None:
    amount = parse_money(message.text, maximum=MAX_TOP_UP)  # AmountError → errors; still asking
    await _ask_reference(message, state, uow, actor, amount)


async def on_reference(message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor) -> None:
    reference = clean_reference(message.text)
    if reference is None:
        text, markup = render.ask_reference((await state.get_data())["amount"])
        await message.answer(text, reply_markup=markup)
        return
    data = await state.get_data()
    await _confirm(message, state, uow, actor, data["amount"], reference)


async def on_confirm(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, actor: Actor
) -> None:
    data = await state.get_data()
    await state.clear()
    result = await billing.top_up(uow, actor, data["amount"], data["reference"])
    await query.message.edit_text(render.top_up(result, actor.timezone))


async def on_invoice(
    query: CallbackQuery,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
    catalog: Catalog,
    operator: Operator,
) -> None:
    await invoice_instead(query, state, uow, actor, catalog, operator, InvoiceKind.TOPUP)


async def on_stale_confirm(query: CallbackQuery) -> None:
    """A Confirm pressed after the dialog ended (done, cancelled, or another /topup)."""
    await query.message.edit_text(render.top_up_gone())


async def on_cancel(event: Message | CallbackQuery, state: FSMContext) -> None:
    had_form = (await state.get_state() or "").startswith(TopUpForm.__full_group_name__)
    await state.clear()
    if isinstance(event, CallbackQuery):
        await event.message.edit_text(render.top_up_cancelled(had_form))
    else:
        await event.answer(render.top_up_cancelled(had_form))


async def on_not_text(message: Message) -> None:
    await message.answer(render.top_up_not_text())


def build_router() -> Router:
    router = FeatureRouter(name="balance-dialog")
    router.message.register(cmd_topup, Command("topup"))
    router.message.register(on_cancel, Command("cancel"), StateFilter(TopUpForm))
    router.callback_query.register(
        on_cancel, TopUpFormCb.filter(F.action == FormAction.CANCEL), StateFilter(TopUpForm)
    )
    router.callback_query.register(
        on_confirm,
        TopUpFormCb.filter(F.action == FormAction.CONFIRM),
        StateFilter(TopUpForm.confirm),
    )
    router.callback_query.register(
        on_invoice,
        TopUpFormCb.filter(F.action == FormAction.INVOICE),
        StateFilter(TopUpForm.reference),
    )
    router.callback_query.register(on_stale_confirm, TopUpFormCb.filter())
    router.message.register(on_amount, StateFilter(TopUpForm.amount), TYPED)
    router.message.register(on_reference, StateFilter(TopUpForm.reference), TYPED)
    router.message.register(
        on_not_text, StateFilter(TopUpForm.amount, TopUpForm.reference, TopUpForm.confirm), ~F.text
    )
    return router
