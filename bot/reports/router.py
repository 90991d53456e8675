"""/report: the sales report with its chart, period and member buttons, and CSV exports."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.reports import render
from bot.reports.callbacks import ReportCb, ReportOp
from bot.reports.sent_charts import SentCharts, send_chart
from bot.routing import FeatureRouter
from core.clock import Clock
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.members.service import find_member
from core.reports.periods import Period, PeriodKind, local_today, parse_period, period_of
from core.reports.service import SalesReport, report_members, report_orders, sales_report


async def _parse_args(
    uow: UnitOfWork, actor: Actor, args: str | None, clock: Clock
) -> tuple[Period, int | None]:
    """'[period] [@member]' in any order; the period defaults to this month."""
    today = local_today(clock.now(), actor.timezone)
    words = (args or "").split()
    members = [w for w in words if w.startswith("@") or w.isdigit()]
    rest = " ".join(w for w in words if w not in members)
    period = parse_period(rest, today) if rest else period_of(PeriodKind.MONTH, today)
    member_id = (await find_member(uow, actor, members[0])).id if members else None
    return period, member_id


async def send_report(message: Message, bot: Bot, charts: SentCharts, report: SalesReport) -> None:
    """The chart (drawn, or sent again if Telegram has it already), then the table."""
    data = render.chart_data(report)
    if data is not None:
        await send_chart(message, bot, charts, data, render.chart_caption(report))
    await message.answer(render.report_text(report), reply_markup=render.report_keyboard(report))


async def cmd_report(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    actor: Actor,
    bot: Bot,
    clock: Clock,
    charts: SentCharts,
) -> None:
    period, member_id = await _parse_args(uow, actor, command.args, clock)
    report = await sales_report(uow, actor, period, member_id)
    await send_report(message, bot, charts, report)


def _period(cb: ReportCb, actor: Actor, clock: Clock) -> Period:
    return cb.period(local_today(clock.now(), actor.timezone))


async def on_show(
    query: CallbackQuery,
    callback_data: ReportCb,
    uow: UnitOfWork,
    actor: Actor,
    bot: Bot,
    clock: Clock,
    charts: SentCharts,
) -> None:
    cb = callback_data
    report = await sales_report(uow, actor, _period(cb, actor, clock), cb.member_id)
    await send_report(query.message, bot, charts, report)


async def on_members(
    query: CallbackQuery, callback_data: ReportCb, uow: UnitOfWork, actor: Actor, clock: Clock
) -> None:
    cb = callback_data
    members = await report_members(uow, actor)
    picker = render.member_picker(_period(cb, actor, clock), cb.member_id, members)
    await query.message.edit_reply_markup(reply_markup=picker)


async def on_back(
    query: CallbackQuery, callback_data: ReportCb, uow: UnitOfWork, actor: Actor, clock: Clock
) -> None:
    cb = callback_data
    report = await sales_report(uow, actor, _period(cb, actor, clock), cb.member_id)
    await query.message.edit_reply_markup(reply_markup=render.report_keyboard(report))


async def on_csv(
    query: CallbackQuery, callback_data: ReportCb, uow: UnitOfWork, actor: Actor, clock: Clock
) -> None:
    period = _period(callback_data, actor, clock)
    report = await sales_report(uow, actor, period, callback_data.member_id)
    document = render.report_csv(report, actor.locale)
    await query.message.answer_document(
        document, caption=render.file_caption(period, len(report.rows))
    )


async def on_orders_csv(
    query: CallbackQuery, callback_data: ReportCb, uow: UnitOfWork, actor: Actor, clock: Clock
) -> None:
    period = _period(callback_data, actor, clock)
    orders = await report_orders(uow, actor, period, callback_data.member_id)
    document = render.orders_csv(orders, period, actor.timezone, actor.locale)
    await query.message.answer_document(document, caption=render.file_caption(period, len(orders)))


def build_router() -> Router:
    router = FeatureRouter(name="reports")
    router.message.register(cmd_report, Command("report"))
    buttons = router.callback_query
    buttons.register(on_show, ReportCb.filter(F.op == ReportOp.SHOW))
    buttons.register(on_members, ReportCb.filter(F.op == ReportOp.MEMBERS))
    buttons.register(on_back, ReportCb.filter(F.op == ReportOp.BACK))
    buttons.register(on_csv, ReportCb.filter(F.op == ReportOp.CSV))
    buttons.register(on_orders_csv, ReportCb.filter(F.op == ReportOp.ORDERS))
    return router
