"""/tariff, /invoice [months], /plan tariff; /prepay is a dialog (`bot.tariff.dialog`)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.routing import FeatureRouter
from bot.tariff import render
from bot.tariff.callbacks import InvoiceCb, PlanCancel, PlanCb
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.members.permissions import Perm
from core.tariff import service
from core.tariff.catalog import Catalog


async def cmd_tariff(message: Message, uow: UnitOfWork, actor: Actor, catalog: Catalog) -> None:
    text, markup = render.status(await service.tariff_status(uow, actor, catalog), actor.locale)
    await message.answer(text, reply_markup=markup)


def _months(text: str | None, default: int | None = None) -> int | None:
    text = (text or "").strip()
    if not text:
        return default
    return int(text) if text.isdigit() and len(text) <= 3 else None


async def cmd_invoice(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, catalog: Catalog
) -> None:
    months = _months(command.args, default=1)
    if months is None:
        await message.answer(render.usage("invoice"))
        return
    bill = await service.preview_invoice(uow, actor, months, catalog)
    await message.answer(render.invoice(bill, actor.locale, actor.can(Perm.BILLING_MANAGE)))


async def on_invoice(
    query: CallbackQuery, callback_data: InvoiceCb, uow: UnitOfWork, actor: Actor, catalog: Catalog
) -> None:
    bill = await service.preview_invoice(uow, actor, callback_data.months, catalog)
    await query.message.answer(render.invoice(bill, actor.locale, actor.can(Perm.BILLING_MANAGE)))


async def cmd_plan(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, catalog: Catalog
) -> None:
    code = (command.args or "").strip()
    if not code:
        await message.answer(render.tariffs_list(catalog, actor.locale))
        return
    change = await service.preview_plan(uow, actor, code, catalog)
    text, markup = render.plan_preview(change, actor.locale)
    await message.answer(text, reply_markup=markup)


async def on_plan(
    query: CallbackQuery, callback_data: PlanCb, uow: UnitOfWork, actor: Actor, catalog: Catalog
) -> None:
    change = await service.change_plan(uow, actor, callback_data.code, catalog)
    await query.message.edit_text(render.plan_changed(change, actor.locale))


async def on_plan_cancel(query: CallbackQuery) -> None:
    await query.message.edit_text(render.plan_kept())


def build_router() -> Router:
    router = FeatureRouter(name="tariff")
    router.message.register(cmd_tariff, Command("tariff"))
    router.message.register(cmd_invoice, Command("invoice"))
    router.message.register(cmd_plan, Command("plan"))
    router.callback_query.register(on_invoice, InvoiceCb.filter())
    router.callback_query.register(on_plan, PlanCb.filter())
    router.callback_query.register(on_plan_cancel, PlanCancel.filter())
    return router
