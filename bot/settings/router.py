"""/settings: the owner's account settings, one table of them (bot/settings/registry.py).

`/settings` shows them with a button each; a button asks for the new value and the answer is
saved by the setting's core setter; `/settings KEY VALUE` does it in one line.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.routing import FeatureRouter
from bot.settings import registry, render
from bot.settings.callbacks import SettingCb
from core.accounts import settings as service
from core.db.uow import UnitOfWork
from core.members.actor import Actor

TYPED = F.text & ~F.text.startswith("/")


class SettingForm(StatesGroup):
    value = State()


async def cmd_settings(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    word, _sep, value = (command.args or "").strip().partition(" ")
    entry = registry.find(word)
    if entry is None or not value.strip():
        text, markup = render.settings(await service.account_settings(uow, actor))
        await message.answer(text, reply_markup=markup)
        return
    text, markup = render.saved(await entry.save(uow, actor, value.strip()))
    await message.answer(text, reply_markup=markup)


async def on_change(
    query: CallbackQuery,
    callback_data: SettingCb,
    state: FSMContext,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    current = await service.account_settings(uow, actor)  # the owner's check
    entry = registry.find(callback_data.key)
    if entry is None:
        callback_answer.text, callback_answer.show_alert = render.gone(), True
        return
    await state.set_state(SettingForm.value)
    await state.set_data({"key": entry.key})
    await query.message.answer(render.ask(entry, current))


async def on_value(message: Message, state: FSMContext, uow: UnitOfWork, actor: Actor) -> None:
    entry = registry.find((await state.get_data()).get("key", ""))
    if entry is None:
        await state.clear()
        await message.answer(render.gone())
        return
    saved = await entry.save(uow, actor, message.text.strip())  # a bad value: still asking
    await state.clear()
    text, markup = render.saved(saved)
    await message.answer(text, reply_markup=markup)


async def on_cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(render.cancelled())


def build_router() -> Router:
    router = FeatureRouter(name="settings")
    router.message.register(cmd_settings, Command("settings"))
    router.callback_query.register(on_change, SettingCb.filter())
    return router


def build_dialog_router() -> Router:
    """The one dialog step (the value a ✏️ button asked for), apart from the command-only
    settings router so that router stays sealed by its command."""
    router = FeatureRouter(name="settings-value")
    router.message.register(on_cancel, Command("cancel"), StateFilter(SettingForm))
    router.message.register(on_value, StateFilter(SettingForm.value), TYPED)
    return router
