"""The request history as text: who, what, before → after, when (in the account's zone)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.audit.callbacks import HistoryPage as HistoryPageCb
from bot.format import day, money, q, when
from bot.members.render import role_name
from bot.reports import export
from bot.reports.periods import PERIOD_NAMES, period_text
from core.audit.service import HistoryFilter, HistoryPage, HistoryRow
from core.journal.catalog import default_catalog
from core.reports.periods import Period
from core.tariff.catalog import Catalog

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
    "customer.merged": __("customers merged"),
    "order.claimed": __("order claimed"),
    "order.assigned": __("order assigned"),
    "order.auto_assigned": __("order assigned automatically"),
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
    "member.shift_started": __("shift started"),
    "member.shift_ended": __("shift ended"),
    "member.digest_changed": __("morning digest turned on or off"),
    "account.quiet_hours_changed": __("quiet hours changed"),
    "account.settings_changed": __("account settings changed"),
    "account.requisites_set": __("payer details saved"),
    "account.requisites_cleared": __("payer details removed"),
    "role.changed": __("custom role edited"),
    "role.deleted": __("custom role deleted"),
    "invoice.issued": __("invoice issued"),
    "invoice.cancelled": __("invoice cancelled"),
    "invoice.payment_received": __("payment received for an invoice"),
    "invoice.payment_assigned": __("bank payment assigned by hand"),
}


def action_name(action: str) -> str:
    name = ACTIONS.get(action)
    return str(name) if name is not None else action


# Field names as a person reads them; fields not named here are internal (ids) and not shown.
FIELD_NAMES = {
    "status": __("status"),
    "assignee": __("assignee"),
    "total": __("total"),
    "source": __("source"),
    "task": __("task"),
    "due": __("due"),
    "role": __("role"),
    "base": __("based on"),
    "name": __("name"),
    "customer": __("customer"),
    "permissions": __("permissions"),
    "balance": __("balance"),
    "amount": __("amount"),
    "price": __("price"),
    "charged": __("charged"),
    "refunded": __("refunded"),
    "code": __("service"),
    "started_on": __("started on"),
    "ends_on": __("paid until"),
    "lapsed_on": __("stopped on"),
    "return_until": __("can be returned until"),
    "return_by": __("can be returned until"),
    "resources": __("resources"),
    "released": __("released"),
    "auto_renew": __("auto-renew"),
    "tariff": __("tariff"),
    "members": __("members"),
    "months": __("period, months"),
    "monthly_cost": __("monthly cost"),
    "confirmed_monthly_cost": __("confirmed monthly cost"),
    "paid_through": __("paid through"),
    "reference": __("payment reference"),
    "chat": __("chat"),
    "hint": __("token"),
    "alerts": __("alerts"),
    "quiet_hours": __("quiet hours"),
    # /settings (core.accounts.settings): each setting's columns
    "timezone": __("time zone"),
    "quiet_start": __("quiet hours from"),
    "quiet_end": __("quiet hours until"),
    "morning_hour": __("“in the morning” hour"),
    "evening_hour": __("“in the evening” hour"),
    "country": __("phone country"),
    "expires_at": __("expires"),
    "owner_telegram_id": __("owner's Telegram id"),
    "number": __("number"),
}
MONEY_KEYS = {
    "amount",
    "balance",
    "charged",
    "confirmed_monthly_cost",
    "monthly_cost",
    "price",
    "refunded",
    "total",
}  # integer kopecks
SWITCH_KEYS = {"alerts", "quiet_hours", "auto_renew"}  # on/off: the change shows the new state
SOURCE_NAMES = {"api": __("API"), "csv": __("CSV file"), "manual": __("by hand")}
# The same words as the orders' and the journal's screens (the same msgids): those renders show
# this module's rows, so it can't import theirs.
ORDER_STATUS_NAMES = {
    "new": __("new"),
    "in_progress": __("in progress"),
    "completed": __("completed"),
    "cancelled": __("cancelled"),
}
SERVICE_STATUS_NAMES = {
    "ordered": __("ordered"),
    "needs_setup": __("needs setup"),
    "active": __("working"),
    "suspended": __("suspended"),
    "disconnected": __("disconnected"),
    "closed": __("closed"),
}
MEMBER_STATUS_NAMES = {
    "active": __("active"),
    "blocked": __("blocked"),
    "removed": __("removed"),
}
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")


def _named(names: dict, value: str) -> str:
    name = names.get(value)
    return str(name) if name is not None else value


def _tariff_name(code: str, catalog: Catalog | None) -> str:
    if catalog is not None:
        for tariff in catalog.tariffs:
            if tariff.code == code:
                return tariff.name(get_i18n().current_locale)
    return code


def _status(subject_type: str, value: str) -> str:
    names = {"order": ORDER_STATUS_NAMES, "service": SERVICE_STATUS_NAMES}
    return _named(names.get(subject_type, MEMBER_STATUS_NAMES), value)


def service_name(code: str) -> str:
    item = default_catalog().get(code)
    return q(item.name(get_i18n().current_locale) if item is not None else code)


@dataclass(frozen=True, slots=True)
class _Shown:
    """How the values of one entry are shown: its subject, the zone, the tariff catalog."""

    subject_type: str
    timezone: str
    catalog: Catalog | None
    escape: Callable[[Any], str]

    def value(self, key: str, value: Any) -> str:
        if isinstance(value, bool):
            return _("on") if value else _("off")  # a switch: the state it turned to
        if isinstance(value, list):
            return ", ".join(self.value(key, v) for v in value) or "—"
        if key in MONEY_KEYS and isinstance(value, int):
            return money(value)
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str):
            return self.escape(value)
        if key == "status":
            return _status(self.subject_type, value)
        if key == "role":
            return role_name(value)
        if key == "source":
            return _named(SOURCE_NAMES, value)
        if key == "code":
            return service_name(value)
        if key == "tariff":
            return self.escape(_tariff_name(value, self.catalog))
        if _ISO_MOMENT.fullmatch(value):
            with contextlib.suppress(ValueError):
                return when(datetime.fromisoformat(value), self.timezone)
        if _ISO_DAY.fullmatch(value):
            with contextlib.suppress(ValueError):
                return day(date.fromisoformat(value))
        return self.escape(value)


def _changes(
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    timezone: str,
    escape: Callable[[Any], str] = q,
    *,
    subject_type: str = "",
    catalog: Catalog | None = None,
) -> str:
    """'field: old → new; …' in words — HTML-escaped for messages, `escape=str` for files."""
    before, after = before or {}, after or {}
    shown = _Shown(subject_type, timezone, catalog, escape)
    parts = []
    for key in FIELD_NAMES:
        old, new = before.get(key), after.get(key)
        if old in (None, []) and new in (None, []):
            continue
        if (key, subject_type) in (("number", "order"), ("code", "service")):
            continue  # the subject names it already
        field = str(FIELD_NAMES[key])
        if key in SWITCH_KEYS and isinstance(new, bool):
            if old != new:
                parts.append(f"{field}: {shown.value(key, new)}")
        elif old is None:
            parts.append(f"{field}: {shown.value(key, new)}")
        elif new is None and key not in after:
            continue  # only the state before was recorded
        elif old != new:
            parts.append(f"{field}: {shown.value(key, old)} → {shown.value(key, new)}")
    return "; ".join(parts)


def _subject(entry: HistoryRow) -> str:
    """What the entry is about, as a person names it (never an internal id)."""
    label, kind = entry.subject_label, entry.subject_type
    if kind == "order":
        return _("order №{number}").format(number=label) if label else _("order")
    if kind == "member":
        return label or _("member")
    if kind == "service":
        return service_name(label) if label else _("service")
    return ""


def row(entry: HistoryRow, timezone: str, catalog: Catalog | None = None) -> str:
    who = q(entry.actor_name) if entry.actor_name else _("system")
    line = f"<code>{when(entry.created_at, timezone)}</code> {who}: {action_name(entry.action)}"
    subject = _subject(entry)
    if subject:
        # service_name escapes already; the others are plain text
        line += " · " + (subject if entry.subject_type == "service" else q(subject))
    changes = _changes(
        entry.before, entry.after, timezone, subject_type=entry.subject_type, catalog=catalog
    )
    if changes:
        line += f"\n    {changes}"
    if entry.reason and entry.action in REFERENCE_ACTIONS:
        line += "\n    " + _("payment reference: {reference}").format(reference=q(entry.reason))
    elif entry.reason:
        line += "\n    " + _("reason: {reason}").format(reason=q(reason_text(entry.reason)))
    return line


# Actions whose `reason` is the payment's reference, not a why.
REFERENCE_ACTIONS = {"balance.topped_up"}


# Reasons the system writes (a member's reason is their own words, shown as written).
REASONS = {
    "balance short": __("the balance did not cover the renewal"),
    "auto-renew off": __("auto-renew was off"),
}


def reason_text(reason: str) -> str:
    return _named(REASONS, reason)


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


def history(
    page: HistoryPage, timezone: str, catalog: Catalog | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Request history</b>, page {page}").format(page=page.page + 1)]
    filters = filters_text(page)
    if filters:
        lines.append(filters)
    if page.rows:
        lines += [row(entry, timezone, catalog) for entry in page.rows]
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


def history_csv(
    rows: list[HistoryRow], timezone: str, locale: str, catalog: Catalog | None = None
) -> BufferedInputFile:
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
            export.text(_subject(entry)),
            export.text(
                _changes(
                    entry.before,
                    entry.after,
                    timezone,
                    escape=str,
                    subject_type=entry.subject_type,
                    catalog=catalog,
                )
            ),
            export.text(reason_text(entry.reason) if entry.reason else None),
        ]
        for entry in rows
    ]
    return BufferedInputFile(export.to_csv(headers, cells, style), filename="history.csv")


def export_caption(count: int, truncated: bool) -> str:
    if truncated:
        return ngettext(
            "The newest {count} entry; narrow the filters for older ones.",
            "The newest {count} entries; narrow the filters for older ones.",
            count,
        ).format(count=count)
    return _("Entries: {count}").format(count=count)
