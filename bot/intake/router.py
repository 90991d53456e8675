"""/apitoken, and orders imported from a .csv file sent to the bot."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.intake import render
from bot.intake.callbacks import CsvConfirm
from bot.routing import FeatureRouter
from core.clock import Clock
from core.db.uow import UnitOfWork
from core.errors import InvalidInput
from core.intake.csv_import import MAX_BYTES, import_csv
from core.intake.tokens import issue_token, revoke_token
from core.members.actor import Actor
from core.settings import Settings


async def cmd_apitoken(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, settings: Settings
) -> None:
    arg = (command.args or "").strip().lower()
    if arg in {"revoke", "отозвать"}:
        await revoke_token(uow, actor)
        await message.answer(render.token_revoked())
    elif arg:
        await message.answer(render.token_usage())
    else:
        await message.answer(render.token_issued(await issue_token(uow, actor), settings))


PENDING_TTL = timedelta(hours=24)


async def _download(bot: Bot, file_id: str) -> bytes:
    buffer = await bot.download(file_id)
    return buffer.read() if buffer is not None else b""


async def on_document(
    message: Message, uow: UnitOfWork, actor: Actor, bot: Bot, state: FSMContext, clock: Clock
) -> None:
    document = message.document
    if not (document.file_name or "").lower().endswith(".csv"):
        await message.answer(render.csv_only())
        return
    if (document.file_size or 0) > MAX_BYTES:
        raise InvalidInput("csv_too_big", limit=MAX_BYTES // 1024)
    summary = await import_csv(uow, actor, await _download(bot, document.file_id))
    if summary.needs_confirmation:
        at = clock.now().isoformat()
        await _pending(state).set_data({"csv_file": document.file_id, "at": at})
    text, markup = render.csv_summary(summary, document.file_name)
    await message.answer(text, reply_markup=markup)


def _pending(state: FSMContext) -> FSMContext:
    """The file waiting for confirmation, kept apart from the member's dialog state: starting
    another dialog (a task, a new order) does not drop it. It waits PENDING_TTL."""
    return FSMContext(storage=state.storage, key=replace(state.key, destiny="csv_import"))


async def _take_pending(
    state: FSMContext, clock: Clock, callback_answer: CallbackAnswer
) -> str | None:
    """The file waiting for confirmation, forgotten once taken; None (with an alert) if none."""
    pending = _pending(state)
    data = await pending.get_data()
    await pending.set_data({})
    file_id, at = data.get("csv_file"), data.get("at")
    if not file_id or not at:
        callback_answer.text, callback_answer.show_alert = render.csv_not_pending(), True
        return None
    if clock.now() - datetime.fromisoformat(at) > PENDING_TTL:
        callback_answer.text, callback_answer.show_alert = render.csv_expired(), True
        return None
    return file_id


async def on_csv_accept(
    query: CallbackQuery,
    uow: UnitOfWork,
    actor: Actor,
    bot: Bot,
    state: FSMContext,
    clock: Clock,
    callback_answer: CallbackAnswer,
) -> None:
    if (file_id := await _take_pending(state, clock, callback_answer)) is None:
        return
    summary = await import_csv(uow, actor, await _download(bot, file_id), accept_partial=True)
    text, _markup = render.csv_summary(summary, None)
    await query.message.edit_text(text)


async def on_csv_cancel(
    query: CallbackQuery, state: FSMContext, clock: Clock, callback_answer: CallbackAnswer
) -> None:
    if await _take_pending(state, clock, callback_answer) is not None:
        await query.message.edit_text(render.csv_cancelled())


def build_router() -> Router:
    router = FeatureRouter(name="intake")
    router.message.register(cmd_apitoken, Command("apitoken"))
    router.message.register(on_document, F.document)
    router.callback_query.register(on_csv_accept, CsvConfirm.filter(F.accept))
    router.callback_query.register(on_csv_cancel, CsvConfirm.filter(~F.accept))
    return router
