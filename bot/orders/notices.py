"""Outbox messages about orders → text and buttons, in the recipient's language (the sender
calls these at send time; core.orders.notices writes the rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.format import money, q
from bot.orders import render
from bot.orders.callbacks import AnnounceClaim, OrderCb, OrderOp
from core.orders import notices
from core.orders.handover import HANDED_OVER
from core.orders.models import CLOSED_STATUSES, OrderStatus
from core.orders.views import OrderSummary

Rendered = tuple[str, InlineKeyboardMarkup | None]


def _summary(params: dict[str, Any]) -> OrderSummary:
    return OrderSummary(
        id=params["order_id"],
        number=params["number"],
        status=OrderStatus(params["status"]),
        total=params["total"],
        currency=params["currency"],
        assignee_id=None,
        assignee=params.get("holder"),
        created_at=datetime.fromisoformat(params["created_at"]),
    )


def announcement(params: dict[str, Any]) -> Rendered:
    """An announcement as the order stands: open with Claim, taken by someone, or closed."""
    summary = _summary(params)
    if summary.status in CLOSED_STATUSES:
        text = _("Order №{number} ({total}) is {status} now.").format(
            number=q(summary.number),
            total=money(summary.total, summary.currency),
            status=render.status_name(summary.status),
        )
        return f"{render.STATUS_ICONS[summary.status]} {text}", None
    if summary.assignee is not None:
        return render.announcement_taken(summary, summary.assignee), None
    return render.announcement(summary, params["tz"])


def many_announced(params: dict[str, Any]) -> Rendered:
    return render.many_new_orders(params["count"]), None


def assigned_to_you(params: dict[str, Any]) -> Rendered:
    summary = _summary(params)
    return render.assigned_to_you(summary), render.open_button(summary.id)


def taken_from_you(params: dict[str, Any]) -> Rendered:
    summary = _summary(params)
    return render.taken_from_you(summary, summary.assignee), None


def claimed(params: dict[str, Any]) -> Rendered:
    summary = _summary(params)
    text = _("Order №{number} is yours now.").format(number=q(summary.number))
    return text, render.open_button(summary.id)


def changed_by_store(params: dict[str, Any]) -> Rendered:
    """To the assignee: the shop changed their order (total, customer, items or status)."""
    summary = _summary(params)
    store = render.STORES.get(params.get("source", ""), params.get("source", ""))
    text = _("Order №{number} was changed in {store}: now {total}, {status}.").format(
        number=q(summary.number),
        store=q(store),
        total=money(summary.total, summary.currency),
        status=render.status_name(summary.status),
    )
    return f"🔔 {text}", render.open_button(summary.id)


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def unclaimed(params: dict[str, Any]) -> Rendered:
    """The claim timer's first step: to the managers on shift, with Claim."""
    summary, minutes = _summary(params), params["minutes"]
    text = ngettext(
        "⏰ Order №{number} ({total}) has waited {minutes} working minute and nobody has "
        "claimed it yet. Who takes it?",
        "⏰ Order №{number} ({total}) has waited {minutes} working minutes and nobody has "
        "claimed it yet. Who takes it?",
        minutes,
    ).format(
        number=q(summary.number), total=money(summary.total, summary.currency), minutes=minutes
    )
    claim = _button(_("✋ Claim"), AnnounceClaim(order_id=summary.id).pack())
    return text, InlineKeyboardMarkup(inline_keyboard=[[claim]])


def escalated(params: dict[str, Any]) -> Rendered:
    """The claim timer's second step: to the owner and admins, with Claim and Assign…"""
    summary, minutes = _summary(params), params["minutes"]
    text = ngettext(
        "🚨 Order №{number} ({total}) is still unclaimed after {minutes} working minute.",
        "🚨 Order №{number} ({total}) is still unclaimed after {minutes} working minutes.",
        minutes,
    ).format(
        number=q(summary.number), total=money(summary.total, summary.currency), minutes=minutes
    )
    claim = _button(_("✋ Claim"), OrderCb(op=OrderOp.CLAIM, order_id=summary.id).pack())
    assign = _button(_("👤 Assign…"), OrderCb(op=OrderOp.PICK, order_id=summary.id).pack())
    return text, InlineKeyboardMarkup(inline_keyboard=[[claim, assign]])


def _working_minutes(minutes: int) -> str:
    return ngettext("{n} working minute", "{n} working minutes", minutes).format(n=minutes)


def many_unclaimed(params: dict[str, Any]) -> Rendered:
    """The first step for many orders at once: a count, no buttons."""
    count = params["count"]
    text = ngettext(
        "⏰ {count} order has waited {waited} and nobody has claimed it yet. "
        "See /orders → Unassigned.",
        "⏰ {count} orders have waited {waited} and nobody has claimed them yet. "
        "See /orders → Unassigned.",
        count,
    )
    return text.format(count=count, waited=_working_minutes(params["minutes"])), None


def many_escalated(params: dict[str, Any]) -> Rendered:
    count = params["count"]
    text = ngettext(
        "🚨 {count} order is still unclaimed after {waited}. See /orders → Unassigned.",
        "🚨 {count} orders are still unclaimed after {waited}. See /orders → Unassigned.",
        count,
    )
    return text.format(count=count, waited=_working_minutes(params["minutes"])), None


def auto_assigned(params: dict[str, Any]) -> Rendered:
    """To the manager an order went to automatically, saying why."""
    summary = _summary(params)
    values = {"number": q(summary.number), "total": money(summary.total, summary.currency)}
    if params.get("reason") == "repeat_customer":
        text = _("📥 Order №{number} ({total}) is yours: a repeat customer of yours.")
    else:
        text = _("📥 Order №{number} ({total}) is yours: you had the fewest open orders.")
    return text.format(**values), render.open_button(summary.id)


def order_renderers() -> dict[str, Any]:
    return {
        notices.ANNOUNCED: announcement,
        notices.ANNOUNCEMENT_EDIT: announcement,
        notices.ANNOUNCED_MANY: many_announced,
        notices.ASSIGNED_TO_YOU: assigned_to_you,
        notices.TAKEN_FROM_YOU: taken_from_you,
        notices.CLAIMED: claimed,
        notices.CHANGED_BY_STORE: changed_by_store,
        HANDED_OVER: render.handover_notice,
        notices.UNCLAIMED: unclaimed,
        notices.ESCALATED: escalated,
        notices.AUTO_ASSIGNED: auto_assigned,
        notices.UNCLAIMED_MANY: many_unclaimed,
        notices.ESCALATED_MANY: many_escalated,
    }
