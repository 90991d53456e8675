"""The request history as text: who, what, before → after, when (in the account's zone)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.audit.callbacks import HistoryPage as HistoryPageCb
from bot.format import day, money, q, when
from core.audit.service import HistoryPage, HistoryRow

ACTIONS = {
    "account.created": __("account created"),
    "account.ownership_transferred": __("ownership transferred"),
    "invite.created": __("invite created"),
    "member.joined": __("member joined"),
    "member.blocked": __("member blocked"),
    "member.unblocked": __("member unblocked"),
    "member.role_changed": __("role changed"),
    "member.removed": __("member removed"),
    "role.created": __("role created"),
    "tariff.prepaid": __("subscription prepaid"),
    "tariff.seats_changed": __("paid seats changed"),
    "tariff.plan_changed": __("tariff changed"),
    "balance.topped_up": __("balance topped up"),
    "service.ordered": __("service ordered"),
    "service.activated": __("service switched on"),
    "service.renewed": __("service renewed"),
    "service.resumed": __("service renewed after a top-up"),
    "service.suspended": __("service suspended"),
    "service.disconnected": __("service disconnected"),
    "service.returned": __("service returned"),
    "service.closed": __("service closed"),
    "service.cancelled": __("service order cancelled"),
    "service.auto_renew_changed": __("auto-renew changed"),
    "order.created": __("order created"),
    "order.claimed": __("order claimed"),
    "order.assigned": __("order assigned"),
    "order.unassigned": __("order unassigned"),
    "order.status_changed": __("order status changed"),
    "order.reopened": __("order reopened"),
    "task.added": __("task added"),
    "task.done": __("task done"),
    "task.reopened": __("task reopened"),
    "task.postponed": __("task postponed"),
    "task.reassigned": __("task reassigned"),
    "group.linked": __("manager group linked"),
    "group.unlinked": __("manager group unlinked"),
    "api_token.issued": __("API token issued"),
    "api_token.revoked": __("API token revoked"),
}


def action_name(action: str) -> str:
    name = ACTIONS.get(action)
    return str(name) if name is not None else action


MONEY_KEYS = {"amount", "monthly_cost", "confirmed_monthly_cost"}  # integer kopecks
DATE_KEYS = {"paid_through"}  # ISO dates
MOMENT_KEYS = {"due"}  # ISO date-times, shown in the account's zone


def _shown(key: str, value: Any, timezone: str) -> str:
    if key in MONEY_KEYS and isinstance(value, int):
        return money(value)
    if key in MOMENT_KEYS and isinstance(value, str):
        try:
            return when(datetime.fromisoformat(value), timezone)
        except ValueError:
            pass
    if key in DATE_KEYS and isinstance(value, str):
        try:
            return day(date.fromisoformat(value))
        except ValueError:
            pass
    return q(value)


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None, timezone: str) -> str:
    before, after = before or {}, after or {}
    parts = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None and new is None:
            continue
        if old is None:
            parts.append(f"{q(key)}: {_shown(key, new, timezone)}")
        elif old != new:
            parts.append(f"{q(key)}: {_shown(key, old, timezone)} → {_shown(key, new, timezone)}")
    return "; ".join(parts)


def row(entry: HistoryRow, timezone: str) -> str:
    who = q(entry.actor_name) if entry.actor_name else _("system")
    subject = (
        f"{entry.subject_type} #{entry.subject_id}" if entry.subject_id else entry.subject_type
    )
    line = f"<code>{when(entry.created_at, timezone)}</code> {who}: {action_name(entry.action)}"
    line += f" · {q(subject)}"
    changes = _changes(entry.before, entry.after, timezone)
    if changes:
        line += f"\n    {changes}"
    if entry.reason:
        line += "\n    " + _("reason: {reason}").format(reason=q(entry.reason))
    return line


def history(page: HistoryPage, timezone: str) -> tuple[str, InlineKeyboardMarkup | None]:
    title = _("<b>Request history</b>, page {page}").format(page=page.page + 1)
    if not page.rows:
        return title + "\n" + _("Nothing here yet."), None
    text = "\n".join([title, *(row(entry, timezone) for entry in page.rows)])
    member = page.member_id or 0
    nav = []
    if page.page > 0:
        cb = HistoryPageCb(page=page.page - 1, member_id=member)
        nav.append(InlineKeyboardButton(text=_("◀ Newer"), callback_data=cb.pack()))
    if page.has_next:
        cb = HistoryPageCb(page=page.page + 1, member_id=member)
        nav.append(InlineKeyboardButton(text=_("Older ▶"), callback_data=cb.pack()))
    return text, InlineKeyboardMarkup(inline_keyboard=[nav]) if nav else None
