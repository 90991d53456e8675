"""/neworder: number → customer → phone → total → comment, with Cancel at every step."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.format import money
from bot.orders import render
from bot.routing import FeatureRouter
from bot.webapp import with_board_button
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.orders import fields, service
from core.settings import Settings


class NewOrderForm(StatesGroup):
    number = State()
    customer = State()
    phone = State()
    total = State()
    comment = State()


class FormCb(CallbackData, prefix="nof"):
    action: str  # "cancel" or "skip"


TYPED = F.text & ~F.text.startswith("/")


def _keyboard(skippable: bool = False) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(text=_("✖ Cancel"), callback_data=FormCb(action="cancel").pack())]
    if skippable:
        row.insert(
            0, InlineKeyboardButton(text=_("Skip ▶"), callback_data=FormCb(action="skip").pack())
        )
    return InlineKeyboardMarkup(inline_keyboard=[row])


def _prompts() -> dict[str, tuple[str, bool]]:
    return {
        NewOrderForm.number.state: (
            _("New order, step 1 of 5. The order number, e.g. 1042:"),
            False,
        ),
        NewOrderForm.customer.state: (_("Step 2 of 5. The customer's name:"), False),
        NewOrderForm.phone.state: (_("Step 3 of 5. The customer's phone (or Skip):"), True),
        NewOrderForm.total.state: (
            _("Step 4 of 5. The total in rubles, e.g. 1500 or 1500,50:"),
            False,
        ),
        NewOrderForm.comment.state: (_("Step 5 of 5. A comment (or Skip):"), True),
    }


async def _ask(message: Message, state: FSMContext, step: State) -> None:
    await state.set_state(step)
    text, skippable = _prompts()[step.state]
    await message.answer(text, reply_markup=_keyboard(skippable))


async def cmd_neworder(message: Message, state: FSMContext, actor: Actor) -> None:
    service.require_create(actor)
    await state.clear()
    await _ask(message, state, NewOrderForm.number)


async def on_number(message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor) -> None:
    number = await service.check_number_free(uow, actor, message.text, _("Number"))
    await state.update_data(number=number)
    await _ask(message, state, NewOrderForm.customer)


async def on_customer(message: Message, state: FSMContext) -> None:
    await state.update_data(customer=fields.text(message.text, _("Customer"), limit=200))
    await _ask(message, state, NewOrderForm.phone)


async def on_phone(message: Message, state: FSMContext) -> None:
    await state.update_data(phone=fields.phone(message.text, _("Phone")))
    await _ask(message, state, NewOrderForm.total)


async def on_total(message: Message, state: FSMContext) -> None:
    kopecks = fields.amount(message.text, _("Total"))
    await state.update_data(total=kopecks)
    await message.answer(_("Total: {total}").format(total=money(kopecks)))
    await _ask(message, state, NewOrderForm.comment)


async def _finish(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
    settings: Settings,
    comment: str | None,
) -> None:
    """Creates the order; the core announces it through the outbox in the same transaction."""
    data = await state.get_data()
    command = service.NewOrder(
        number=data["number"],
        customer_name=data["customer"],
        customer_phone=data.get("phone"),
        total=data["total"],
        comment=comment,
    )
    card = await service.create_order(uow, actor, command)
    await state.clear()
    text, markup = render.order_card(card, actor.timezone)
    markup = with_board_button(markup, settings.webapp_url, message.chat)
    await message.answer(_("✅ Order created.") + "\n\n" + text, reply_markup=markup)


async def on_comment(
    message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor, settings: Settings
) -> None:
    comment = fields.text(message.text, _("Comment"), limit=2000, optional=True)
    await _finish(message, state, uow, actor, settings, comment)


async def on_skip_phone(query: CallbackQuery, state: FSMContext) -> None:
    await state.update_data(phone=None)
    await _ask(query.message, state, NewOrderForm.total)


async def on_skip_comment(
    query: CallbackQuery, state: FSMContext, uow: UnitOfWork, actor: Actor, settings: Settings
) -> None:
    await _finish(query.message, state, uow, actor, settings, None)


async def _cancelled(state: FSMContext) -> str:
    had_form = (await state.get_state() or "").startswith(NewOrderForm.__full_group_name__)
    await state.clear()
    return _("Cancelled: nothing was saved.") if had_form else _("There is nothing to cancel.")


async def cmd_cancel(message: Message, state: FSMContext) -> None:
    await message.answer(await _cancelled(state))


async def on_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await query.message.edit_text(await _cancelled(state))


async def on_not_text(message: Message) -> None:
    await message.answer(_("Please answer with text, or press Cancel."), reply_markup=_keyboard())


def build_router() -> Router:
    router = FeatureRouter(name="neworder")
    router.message.register(cmd_neworder, Command("neworder"))
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(on_cancel, FormCb.filter(F.action == "cancel"))
    skip = FormCb.filter(F.action == "skip")
    router.callback_query.register(on_skip_phone, skip, StateFilter(NewOrderForm.phone))
    router.callback_query.register(on_skip_comment, skip, StateFilter(NewOrderForm.comment))
    steps = {
        NewOrderForm.number: on_number,
        NewOrderForm.customer: on_customer,
        NewOrderForm.phone: on_phone,
        NewOrderForm.total: on_total,
        NewOrderForm.comment: on_comment,
    }
    for step, handler in steps.items():
        router.message.register(handler, StateFilter(step), TYPED)
    router.message.register(on_not_text, StateFilter(NewOrderForm), ~F.text)
    return router
