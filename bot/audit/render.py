"""The request history as text: who, what, before → after, when (in the account's zone)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.audit.callbacks import HistoryPage as HistoryPageCb
from bot.format import day, money, q, when
from bot.reports import export
from bot.reports.periods import PERIOD_NAMES, period_text
from core.audit.service import HistoryFilter, HistoryPage, HistoryRow
from core.reports.periods import Period

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
    "order.changed_by_store": __("order changed by the shop"),
    "task.added": __("task added"),
    "task.done": __("task done"),
    "task.reopened": __("task reopened"),
    "task.postponed": __("task postponed"),
    "task.reassigned": __("task reassigned"),
    "group.linked": __("manager group linked"),
    "group.unlinked": __("manager group unlinked"),
    "api_token.issued": __("API token issued"),
    "api_token.revoked": __("API token revoked"),
    "connector.created": __("shop connector created"),
    "connector.status": __("shop connector paused or resumed"),
    "connector.rotated": __("shop connector secret rotated"),
    "connector.deleted": __("shop connector deleted"),
    "status_hook.set": __("status webhook set"),
    "status_hook.removed": __("status webhook removed"),
    "member.alerts_changed": __("alerts turned on or off"),
    "account.quiet_hours_changed": __("quiet hours changed"),
}


def action_name(action: str) -> str:
    name = ACTIONS.get(action)
    return str(name) if name is not None else action


MONEY_KEYS = {"amount", "monthly_cost", "confirmed_monthly_cost"}  # integer kopecks
DATE_KEYS = {"paid_through"}  # ISO dates
MOMENT_KEYS = {"due"}  # ISO date-times, shown in the account's zone


def _shown(key: str, value: Any, timezone: str, escape=q) -> str:
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
    return escape(value)


def _changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None, timezone: str, escape=q
) -> str:
    """'key: old → new; …' — HTML-escaped for messages, `escape=str` for files."""
    before, after = before or {}, after or {}
    parts = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None and new is None:
            continue
        if old is None:
            parts.append(f"{escape(key)}: {_shown(key, new, timezone, escape)}")
        elif old != new:
            shown_old = _shown(key, old, timezone, escape)
            parts.append(f"{escape(key)}: {shown_old} → {_shown(key, new, timezone, escape)}")
    return "; ".join(parts)


def _subject(entry: HistoryRow) -> str:
    if entry.subject_id:
        return f"{entry.subject_type} #{entry.subject_id}"
    return entry.subject_type


def row(entry: HistoryRow, timezone: str) -> str:
    who = q(entry.actor_name) if entry.actor_name else _("system")
    line = f"<code>{when(entry.created_at, timezone)}</code> {who}: {action_name(entry.action)}"
    line += f" · {q(_subject(entry))}"
    changes = _changes(entry.before, entry.after, timezone)
    if changes:
        line += f"\n    {changes}"
    if entry.reason:
        line += "\n    " + _("reason: {reason}").format(reason=q(entry.reason))
    return line


ACTION_GROUP_NAMES = {
    "orders": __("Orders"),
    "members": __("Members"),
    "services": __("Services"),
    "billing": __("Billing"),
    "settings": __("Settings"),
}


def _action_filter_name(action: str) -> str:
    name = ACTION_GROUP_NAMES.get(action)
    return str(name) if name is not None else action_name(action)


def filters_text(page: HistoryPage) -> str | None:
    parts = []
    if page.member_name:
        parts.append(q(page.member_name))
    if page.action:
        parts.append(q(_action_filter_name(page.action)))
    if page.period is not None:
        parts.append(period_text(page.period))
    return _("Filters: {filters}").format(filters=" · ".join(parts)) if parts else None


def _marked(chosen: bool, text: str) -> str:
    return ("• " if chosen else "") + text


def _filter_rows(
    wanted: HistoryFilter, member_name: str | None
) -> list[list[InlineKeyboardButton]]:
    def button(text: str, changed: HistoryFilter) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=text, callback_data=HistoryPageCb.of(changed, e=True).pack()
        )

    kind = wanted.period.kind if wanted.period else None
    periods = [button(_marked(kind is None, _("All time")), replace(wanted, period=None))]
    for period_kind, name in PERIOD_NAMES.items():
        # The named period is recomputed when pressed; these days are placeholders.
        placeholder = Period(period_kind, date.min, date.min)
        periods.append(
            button(_marked(kind == period_kind, str(name)), replace(wanted, period=placeholder))
        )
    actions = [
        button(_marked(wanted.action is None, _("All actions")), replace(wanted, action=None))
    ]
    actions += [
        button(_marked(wanted.action == code, str(name)), replace(wanted, action=code))
        for code, name in ACTION_GROUP_NAMES.items()
    ]
    last = []
    if member_name:
        last.append(button(_("✕ {name}").format(name=member_name), replace(wanted, member_id=None)))
    last.append(
        InlineKeyboardButton(
            text=_("📄 CSV"), callback_data=HistoryPageCb.of(wanted, csv=True).pack()
        )
    )
    return [periods[:3], periods[3:], actions[:3], actions[3:], last]


def history(page: HistoryPage, timezone: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Request history</b>, page {page}").format(page=page.page + 1)]
    filters = filters_text(page)
    if filters:
        lines.append(filters)
    if page.rows:
        lines += [row(entry, timezone) for entry in page.rows]
    else:
        lines.append(_("No entries match these filters.") if filters else _("Nothing here yet."))
    wanted = page.filter
    nav = []
    if page.page > 0:
        cb = HistoryPageCb.of(wanted, page.page - 1, e=True)
        nav.append(InlineKeyboardButton(text=_("◀ Newer"), callback_data=cb.pack()))
    if page.has_next:
        cb = HistoryPageCb.of(wanted, page.page + 1, e=True)
        nav.append(InlineKeyboardButton(text=_("Older ▶"), callback_data=cb.pack()))
    rows = ([nav] if nav else []) + _filter_rows(wanted, page.member_name)
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def history_csv(rows: list[HistoryRow], timezone: str, locale: str) -> BufferedInputFile:
    style = export.style_for(locale)
    headers = [
        _("Time"),
        _("Member"),
        _("Action"),
        _("Action code"),
        _("Subject"),
        _("Changes"),
        _("Reason"),
    ]
    cells = [
        [
            when(entry.created_at, timezone),
            export.text(entry.actor_name or _("system")),
            action_name(entry.action),
            entry.action,
            _subject(entry),
            export.text(_changes(entry.before, entry.after, timezone, escape=str)),
            export.text(entry.reason),
        ]
        for entry in rows
    ]
    return BufferedInputFile(export.to_csv(headers, cells, style), filename="history.csv")


def export_caption(count: int, truncated: bool) -> str:
    if truncated:
        return _("The newest {count} entries; narrow the filters for older ones.").format(
            count=count
        )
    return _("Entries: {count}").format(count=count)
