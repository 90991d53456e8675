"""Texts and keyboards of /orders, the order card, its pickers and its log."""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.audit.render import action_name
from bot.customers import lines as customers
from bot.format import money, q, when
from bot.orders.callbacks import OPEN, AnnounceClaim, CancelCb, OrderCb, OrderOp, OrdersList
from bot.tasks.render import task_log_details, tasks_button
from core.audit.service import HistoryRow
from core.customers.views import CustomerRow
from core.orders.handover import Handover
from core.orders.models import CLOSED_STATUSES, OrderStatus
from core.orders.service import (
    ClaimOutcome,
    OrderLog,
    OrdersPage,
    OrderTab,
    Recipient,
)
from core.orders.views import Limited, OrderAction, OrderCard, OrderSummary

STATUS_NAMES = {
    OrderStatus.NEW: __("new"),
    OrderStatus.IN_PROGRESS: __("in progress"),
    OrderStatus.COMPLETED: __("completed"),
    OrderStatus.CANCELLED: __("cancelled"),
}
STATUS_ICONS = {
    OrderStatus.NEW: "🆕",
    OrderStatus.IN_PROGRESS: "🔄",
    OrderStatus.COMPLETED: "✅",
    OrderStatus.CANCELLED: "❌",
}
TAB_NAMES = {
    OrderTab.MINE: __("Mine"),
    OrderTab.UNASSIGNED: __("Unassigned"),
    OrderTab.ALL: __("All"),
}


def status_name(status: str) -> str:
    name = STATUS_NAMES.get(status)
    return str(name) if name is not None else status


def tab_name(tab: OrderTab, full_view: bool) -> str:
    if tab == OrderTab.ALL and not full_view:
        return _("Team")
    return str(TAB_NAMES[tab])


def age_units() -> tuple[str, str, str]:
    """Minutes, hours, days: translated once per list, not once per row."""
    return _("{n} min"), _("{n} h"), _("{n} d")


def age(created_at: datetime, now: datetime, units: tuple[str, str, str] | None = None) -> str:
    minutes_, hours, days = units or age_units()
    minutes = max(0, int((now - created_at).total_seconds() // 60))
    if minutes < 60:
        return minutes_.format(n=minutes)
    if minutes < 48 * 60:
        return hours.format(n=minutes // 60)
    return days.format(n=minutes // (24 * 60))


def order_title(summary: OrderSummary) -> str:
    return _("Order №{number}").format(number=q(summary.number))


def row_label(
    summary: OrderSummary, now: datetime, units: tuple[str, str, str] | None = None
) -> str:
    parts = [
        f"{STATUS_ICONS[summary.status]} №{summary.number}",
        *((summary.customer,) if summary.customer else ()),
        money(summary.total, summary.currency),
        summary.assignee or "—",
        age(summary.shown_at, now, units),
    ]
    return " · ".join(parts)


# ---- the list --------------------------------------------------------------------------------

FOUND_SHOWN = 20


def found(
    query: str,
    rows: list[OrderSummary],
    now: datetime,
    people: list[CustomerRow] | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """/find: the customers found (their cards), then one list with the same rows as /orders."""
    shown = q(" ".join(query.split())[:40])
    people = people or []
    if not rows and not people:
        return _(
            "Nothing found for “{query}”. Search by order number, phone or customer name."
        ).format(query=shown), None
    heads = []
    if people:
        heads.append(
            ngettext(
                "Found {count} customer for “{query}”:",
                "Found {count} customers for “{query}”:",
                len(people),
            ).format(count=len(people), query=shown)
        )
    if rows:
        head = ngettext(
            "Found {count} order for “{query}”:",
            "Found {count} orders for “{query}”:",
            len(rows),
        ).format(count=len(rows), query=shown)
        if len(rows) >= FOUND_SHOWN:
            head += "\n" + _(
                "Only the newest {count} are shown: make the search more exact."
            ).format(count=FOUND_SHOWN)
        heads.append(head)
    units = age_units()
    buttons = customers.found_buttons(people)
    buttons += [[_order_button(row_label(s, now, units), s.id)] for s in rows]
    return "\n".join(heads), InlineKeyboardMarkup(inline_keyboard=buttons)


def orders_list(page: OrdersPage, now: datetime) -> tuple[str, InlineKeyboardMarkup]:
    # The markup is built directly: InlineKeyboardBuilder.as_markup deep-copies every button.
    shown = OPEN if page.open_only else page.status
    head, tabs, statuses = _list_frame(
        get_i18n().current_locale, page.tab, shown, page.tabs, page.full_view, bool(page.rows)
    )
    units = age_units()
    rows = [tabs]
    rows += [[_order_button(row_label(summary, now, units), summary.id)] for summary in page.rows]
    nav = []
    back, forward = (_("◀ Older"), _("Newer ▶")) if page.open_only else (_("◀ Newer"), _("Older ▶"))
    if page.newer is not None:
        cb = OrdersList.page(page.tab, shown, page.newer, back=True)
        nav.append(InlineKeyboardButton(text=back, callback_data=cb.pack()))
    if page.older is not None:
        cb = OrdersList.page(page.tab, shown, page.older)
        nav.append(InlineKeyboardButton(text=forward, callback_data=cb.pack()))
    if nav:
        rows.append(nav)
    rows.append(statuses)
    return head, InlineKeyboardMarkup(inline_keyboard=rows)


@lru_cache(maxsize=512)
def _list_frame(
    locale: str,
    tab: OrderTab,
    status: OrderStatus | str | None,
    tabs: tuple[OrderTab, ...],
    full_view: bool,
    has_rows: bool,
) -> tuple[str, list[InlineKeyboardButton], list[InlineKeyboardButton]]:
    """What a list shows around its rows — the text, the tab row, the status row — in the
    current locale (`locale` keys the cache): a few hundred distinct frames, each translated
    and built once. The rows are shared by every list; nothing changes a sent button."""
    tab_row = [
        # Another tab opens on its own default: a filter kept from this tab could empty it.
        _list_button(
            ("• " if each == tab else "") + tab_name(each, full_view),
            each,
            OPEN if each == OrderTab.MINE else None,
        )
        for each in tabs
    ]
    filters = (None, OPEN, *OrderStatus) if tab != OrderTab.UNASSIGNED else (None, *OrderStatus)
    status_row = [
        _list_button(("• " if each == status else "") + _filter_label(each), tab, each)
        for each in filters
    ]
    if status == OPEN:
        shown = _("open (new and in progress), oldest first")
    else:
        shown = status_name(status) if status else _("any")
    lines = [
        _("<b>Orders</b> · {tab}").format(tab=tab_name(tab, full_view)),
        _("Status: {status}").format(status=shown),
    ]
    if tab == OrderTab.ALL and not full_view:
        lines.append(_("Colleagues' orders show only number, status, total, assignee and date."))
    lines.append(_("Tap an order to open its card.") if has_rows else _("No orders here."))
    return "\n".join(lines), tab_row, status_row


def _filter_label(status: OrderStatus | str | None) -> str:
    if status is None:
        return _("any")
    if status == OPEN:
        return _("open")
    return STATUS_ICONS[status]


@lru_cache(maxsize=512)
def _list_button(
    text: str, tab: OrderTab, status: OrderStatus | str | None
) -> InlineKeyboardButton:
    """A tab or filter button: a few hundred distinct ones across languages, so each is built
    (and its callback packed) once and shared by every list; nothing changes a sent button."""
    return InlineKeyboardButton(text=text, callback_data=OrdersList.page(tab, status, None).pack())


def _order_button(text: str, order_id: int) -> InlineKeyboardButton:
    """`InlineKeyboardButton(text=text, callback_data=card_data(order_id))`, copied from a
    validated one: the two strings are ours, and validating a button costs twice the copy."""
    return _order_button_template().model_copy(
        update={"text": text, "callback_data": card_data(order_id)}
    )


@cache
def _order_button_template() -> InlineKeyboardButton:
    return InlineKeyboardButton(text="-", callback_data=card_data(0))


def card_data(order_id: int) -> str:
    """`OrderCb(op=OrderOp.CARD, order_id=order_id).pack()`, without a model per row."""
    head, tail = _card_template()
    return f"{head}{order_id}{tail}"


@cache
def _card_template() -> tuple[str, str]:
    marker = 9_876_543_210_123
    head, _sep, tail = OrderCb(op=OrderOp.CARD, order_id=marker).pack().partition(str(marker))
    return head, tail


# ---- the card --------------------------------------------------------------------------------

_ACTION_LABELS = {
    OrderAction.CLAIM: (__("✋ Claim"), OrderOp.CLAIM),
    OrderAction.ASSIGN: (__("👤 Assign…"), OrderOp.PICK),
    OrderAction.UNASSIGN: (__("🚫 Unassign"), OrderOp.UNASSIGN),
    OrderAction.STATUS: (__("🔁 Status…"), OrderOp.STATUSES),
    OrderAction.LOG: (__("📜 Log"), OrderOp.LOG),
}


def _summary_lines(summary: OrderSummary, timezone: str) -> list[str]:
    return [
        f"<b>{order_title(summary)}</b> · {STATUS_ICONS[summary.status]} "
        f"{status_name(summary.status)}",
        _("Total: {total}").format(total=money(summary.total, summary.currency)),
        _("Assignee: {name}").format(name=q(summary.assignee) if summary.assignee else "—"),
        _("Created: {date}").format(date=when(summary.shown_at, timezone)),
    ]


def order_card(card: OrderCard, timezone: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = _summary_lines(card.summary, timezone)
    details = card.details
    if details is not None:
        lines.append("")
        lines.append(_("Customer: {name}").format(name=q(details.customer_name)))
        lines.append(_("Phone: {phone}").format(phone=q(details.customer_phone or "—")))
        lines.append(_("Email: {email}").format(email=q(details.customer_email or "—")))
        lines.append(_("Address: {address}").format(address=q(details.customer_address or "—")))
        if details.items:
            lines.append(_("Items:"))
            for item in details.items:
                price = money(item.price, card.summary.currency)
                lines.append(f"  • {q(item.title)} × {item.qty} — {price}")
        if details.comment:
            lines.append(_("Comment: {comment}").format(comment=q(details.comment)))
        if details.completed_at:
            lines.append(_("Completed: {date}").format(date=when(details.completed_at, timezone)))
    elif card.limited == Limited.UNASSIGNED:
        lines.append("")
        lines.append(
            _("🔒 Customer details are shown to the assignee: claim the order to see them.")
        )
    else:
        lines.append("")
        lines.append(
            _("🔒 This is {name}'s order: you see only its number, status, total and date.").format(
                name=q(card.summary.assignee or "—")
            )
        )
    if card.customer is not None:
        lines.append(customers.order_card_line(card.customer, timezone))
    if card.open_tasks:
        lines.append(_("Open tasks: {n}").format(n=card.open_tasks))
    builder = InlineKeyboardBuilder()
    for action in card.actions:
        label, op = _ACTION_LABELS[action]
        builder.button(text=str(label), callback_data=OrderCb(op=op, order_id=card.summary.id))
    if card.open_tasks is not None:
        builder.add(tasks_button(card.summary.id, card.open_tasks))
    if card.customer is not None:
        builder.add(customers.card_button(card.customer.customer_id, card.summary.id))
    builder.button(text=_("« Orders"), callback_data=OrdersList.page(OrderTab.MINE, None, None))
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


def _back(order_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("« Back"), callback_data=OrderCb(op=OrderOp.CARD, order_id=order_id).pack()
    )


def member_picker(
    summary: OrderSummary, members: list[Recipient]
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for member in members:
        mark = "• " if member.member_id == summary.assignee_id else ""
        builder.button(
            text=mark + member.name,
            callback_data=OrderCb(
                op=OrderOp.ASSIGN, order_id=summary.id, member_id=member.member_id
            ),
        )
    builder.adjust(2)
    builder.row(_back(summary.id))
    text = _("Who should work on order №{number}?").format(number=q(summary.number))
    return text, builder.as_markup()


def handed_over(done: Handover) -> str:
    if not done.orders and not done.tasks:
        return _("{giver} has no open orders or tasks: nothing to hand over.").format(
            giver=q(done.giver)
        )
    orders = ngettext("{n} open order", "{n} open orders", len(done.orders)).format(
        n=len(done.orders)
    )
    tasks = ngettext("{n} open task", "{n} open tasks", done.tasks).format(n=done.tasks)
    return _("✅ {giver} → {receiver}: {orders} and {tasks} handed over.").format(
        giver=q(done.giver), receiver=q(done.receiver), orders=orders, tasks=tasks
    )


def handover_notice(params: dict[str, Any]) -> tuple[str, None]:
    """The receiver's one message about a /handover."""
    count, tasks = params["count"], params["tasks"]
    orders = ngettext("{n} open order", "{n} open orders", count).format(n=count)
    task_text = ngettext("{n} open task", "{n} open tasks", tasks).format(n=tasks)
    text = _("{by} handed {giver}'s work over to you: {orders} and {tasks}.").format(
        by=q(params["by"]), giver=q(params["from"]), orders=orders, tasks=task_text
    )
    if params["orders"]:
        numbers = ", ".join(f"№{q(n)}" for n in params["orders"])
        more = count - len(params["orders"])
        text += "\n" + numbers + (" " + _("and {n} more").format(n=more) if more > 0 else "")
        text += "\n" + _("See /orders.")
    return text, None


CANCEL_REASON_NAMES = {
    "customer_refused": __("The customer changed their mind"),
    "out_of_stock": __("Out of stock"),
    "unreachable": __("Can't reach the customer"),
    "duplicate": __("A duplicate order"),
}


def reason_name(reason: str) -> str:
    name = CANCEL_REASON_NAMES.get(reason)
    return str(name) if name is not None else reason


def confirm_status(card: OrderCard, status: OrderStatus) -> tuple[str, InlineKeyboardMarkup]:
    """'Complete order №…?' or 'Cancel order №…? Why?' with the reasons to pick from."""
    summary = card.summary
    number = q(summary.number)
    back = InlineKeyboardButton(
        text=_("« Back"), callback_data=OrderCb(op=OrderOp.STATUSES, order_id=summary.id).pack()
    )
    if status == OrderStatus.COMPLETED:
        text = _(
            "Complete order №{number}? It leaves the open lists; only an admin can reopen it."
        ).format(number=number)
        yes = OrderCb(op=OrderOp.SET_STATUS, order_id=summary.id, status=status.value).pack()
        rows = [[InlineKeyboardButton(text=_("✅ Yes, complete"), callback_data=yes)], [back]]
        return text, InlineKeyboardMarkup(inline_keyboard=rows)
    text = _(
        "Cancel order №{number}? Only an admin can reopen it. Why is it cancelled? The reason "
        "goes to the order's log and the reports."
    ).format(number=number)
    rows = [
        [
            InlineKeyboardButton(
                text=str(label),
                callback_data=CancelCb(order_id=summary.id, reason=code).pack(),
            )
        ]
        for code, label in CANCEL_REASON_NAMES.items()
    ]
    other = OrderCb(op=OrderOp.REASON, order_id=summary.id).pack()
    rows.append([InlineKeyboardButton(text=_("✍️ Another reason…"), callback_data=other)])
    rows.append([back])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def ask_reason(number: str) -> str:
    return _(
        "Why is order №{number} cancelled? Write the reason in one message (up to 200 "
        "characters), or /cancel to keep the order."
    ).format(number=q(number))


def reason_kept() -> str:
    return _("The order is not cancelled.")


def why_no_status(card: OrderCard, member_id: int) -> str:
    """Why a Status button pressed on an old message leads nowhere."""
    summary = card.summary
    if summary.assignee_id not in (None, member_id):
        return _("Order №{number} is now {holder}'s.").format(
            number=summary.number, holder=summary.assignee or "—"
        )
    return _("Order №{number} is {status} now: its status can't be changed.").format(
        number=summary.number, status=status_name(summary.status)
    )


def status_picker(card: OrderCard) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    summary = card.summary
    for status in card.next_statuses:
        label = f"{STATUS_ICONS[status]} {status_name(status)}"
        # Completing and cancelling ask first; cancelling also asks why.
        op = OrderOp.CONFIRM if status in CLOSED_STATUSES else OrderOp.SET_STATUS
        builder.button(
            text=label, callback_data=OrderCb(op=op, order_id=summary.id, status=status.value)
        )
    builder.adjust(2)
    builder.row(_back(summary.id))
    text = _("Order №{number} is {status}. New status:").format(
        number=q(summary.number), status=status_name(summary.status)
    )
    return text, builder.as_markup()


def _change(key: str, value: Any) -> str:
    if value is None:
        return "—"
    return status_name(value) if key == "status" else q(value)


# Where a change by the shop came from (the audit entry's reason).
STORES = {
    "shopify": "Shopify",
    "woocommerce": "WooCommerce",
    "ecwid": "Ecwid",
    "tilda": "Tilda",
    "insales": "InSales",
    "api": "API",
}


def log_row(entry: HistoryRow, timezone: str) -> str:
    who = q(entry.actor_name) if entry.actor_name else _("system")
    if entry.action == "order.changed_by_store" and entry.reason:
        who = q(STORES.get(entry.reason, entry.reason))
    line = f"<code>{when(entry.created_at, timezone)}</code> {who}: {action_name(entry.action)}"
    if entry.action.startswith("task."):
        return line + task_log_details(entry, timezone)
    before, after = entry.before or {}, entry.after or {}
    changes = [
        f"{_change(key, before.get(key))} → {_change(key, after.get(key))}"
        for key in ("assignee", "status")
        if key in before or key in after
    ]
    if entry.action == "order.changed_by_store":
        changes += [", ".join(k for k in after if k not in ("number", "status"))]
    changes = [c for c in changes if c]
    if changes:
        line += "\n    " + "; ".join(changes)
    if entry.reason and after.get("status") == OrderStatus.CANCELLED:
        line += "\n    " + _("Reason: {reason}").format(reason=q(reason_name(entry.reason)))
    return line


def order_log(log: OrderLog, timezone: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Log of order №{number}</b>").format(number=q(log.order.number))]
    lines += [log_row(entry, timezone) for entry in log.rows] or [_("Nothing here yet.")]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[[_back(log.order.id)]])


# ---- outcomes and notifications --------------------------------------------------------------


def claim_result(outcome: ClaimOutcome) -> str:
    number = q(outcome.order.number)
    if outcome.won:
        return _("Order №{number} is yours now.").format(number=number)
    if outcome.mine:
        return _("Order №{number} is already yours.").format(number=number)
    return _("Too late: order №{number} is already taken by {name}.").format(
        number=number, name=q(outcome.holder or "—")
    )


def assigned_to_you(summary: OrderSummary) -> str:
    return _("📥 Order №{number} ({total}) has been assigned to you.").format(
        number=q(summary.number), total=money(summary.total, summary.currency)
    )


def taken_from_you(summary: OrderSummary, new_name: str | None) -> str:
    if new_name is None:
        return _("📤 Order №{number} is no longer assigned to you.").format(
            number=q(summary.number)
        )
    return _("📤 Order №{number} has been reassigned to {name}.").format(
        number=q(summary.number), name=q(new_name)
    )


def open_button(order_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("Open"),
                    callback_data=OrderCb(op=OrderOp.CARD, order_id=order_id).pack(),
                )
            ]
        ]
    )


def announcement(summary: OrderSummary, timezone: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _("🆕 New order №{number}: {total}, {date}. Who takes it?").format(
        number=q(summary.number),
        total=money(summary.total, summary.currency),
        date=when(summary.created_at, timezone),
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✋ Claim"), callback_data=AnnounceClaim(order_id=summary.id).pack()
                )
            ]
        ]
    )
    return text, markup


def announcement_taken(summary: OrderSummary, holder: str | None) -> str:
    return _("✅ Order №{number} ({total}) was taken by {name}.").format(
        number=q(summary.number),
        total=money(summary.total, summary.currency),
        name=q(holder or "—"),
    )


def many_new_orders(count: int) -> str:
    return _("🆕 {count} new orders have arrived. See /orders → Unassigned.").format(count=count)


def usage(command: str) -> str:
    examples = {
        "order": _("Usage: /order 1042 — the order number."),
        "claim": _("Usage: /claim 1042 — the order number."),
        "handover": _(
            "Usage: /handover @from @to — all open orders and open tasks of the first member go "
            "to the second."
        ),
        "find": _(
            "Usage: /find 1042, /find +7 900 123-45-67 or /find Ivanov — number, phone or name."
        ),
    }
    return examples[command]


def notify_state(on: bool) -> str:
    if on:
        return _(
            "🔔 Announcements of new orders are on: each new unassigned order comes to you with "
            "a Claim button. Turn off: /notify orders off"
        )
    return _("🔕 Announcements of new orders are off. Turn on: /notify orders on")


def notify_usage() -> str:
    return _("Usage: /notify orders on — or /notify orders off.")


def group_linked(title: str) -> str:
    return _(
        "✅ {title} is now the manager group: new orders will be announced here with a Claim "
        "button. /linkgroup off unlinks it."
    ).format(title=q(title))


def group_unlinked() -> str:
    return _("The manager group is unlinked: new orders are no longer announced there.")


def linkgroup_usage() -> str:
    return _(
        "Add me to your managers' group and send /linkgroup there. /linkgroup off unlinks the "
        "current group."
    )
