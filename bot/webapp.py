"""The Telegram side of the Mini App (the order board served by web/app): checking initData
with aiogram's helper, the page's texts from the bot's catalogues, and the "Open board" buttons.

The /orders, /order and /services replies add the button with `with_board_button`, which
changes nothing while WEBAPP_URL is not set.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram.enums import ChatType
from aiogram.types import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.web_app import safe_parse_webapp_init_data

from bot.errors import error_text
from bot.notifications.menu import ChatMenu
from core.errors import DomainError

# The page's words, sent with /app/api/me in the member's language.
TEXTS = {
    "title": __("Order board"),
    "col_new": __("New"),
    "col_in_progress": __("In progress"),
    "col_done_today": __("Done today"),
    "col_done": __("Done"),
    "scope_mine": __("Mine"),
    "scope_team": __("Team"),
    "scope_all": __("All"),
    "all_managers": __("All managers"),
    "search": __("Number, phone or name"),
    "empty": __("No orders"),
    "stale": __("Unclaimed too long"),
    "unassigned": __("not assigned"),
    "claim": __("Claim"),
    "claimed": __("The order is yours."),
    "claimed_by": __("Already taken by {name}."),
    "status_new": __("new"),
    "status_in_progress": __("in progress"),
    "status_completed": __("completed"),
    "status_cancelled": __("cancelled"),
    "change_status": __("Status"),
    "assign": __("Assign…"),
    "unassign": __("Unassign"),
    "assign_to": __("Assign to"),
    "cancel_why": __("Why is it cancelled?"),
    "reason_customer_refused": __("The customer changed their mind"),
    "reason_out_of_stock": __("Out of stock"),
    "reason_unreachable": __("Can't reach the customer"),
    "reason_duplicate": __("A duplicate order"),
    "reason_own": __("Or your own words"),
    "cancel_order": __("Cancel the order"),
    "assignee": __("Assignee"),
    "received": __("Received"),
    "customer": __("Customer"),
    "phone": __("Phone"),
    "email": __("Email"),
    "address": __("Address"),
    "items": __("Items"),
    "comment": __("Comment"),
    "total": __("Total"),
    "customer_history": __("{orders}, {spent} spent; first {first}, last {last}"),
    "customer_history_unpaid": __("{orders}; first {first}, last {last}"),
    "customer_usual": __("usually with {manager}"),
    "customer_first": __("👤 A new customer: this is their first order."),
    "limited_unassigned": __("Claim the order to see the customer."),
    "limited_colleague": __("A colleague's order: only the summary is shown."),
    "tasks": __("Tasks"),
    "no_tasks": __("No tasks yet."),
    "add_task": __("Add task"),
    "task_text": __("What needs doing"),
    "task_due": __("Due, e.g. tomorrow 10:00 (optional)"),
    "task_done": __("Mark done"),
    "postpone_hour": __("+1 hour"),
    "postpone_day": __("+1 day"),
    "overdue": __("past due"),
    "log": __("Order log"),
    "log_order.created": __("Order received"),
    "log_order.claimed": __("Claimed"),
    "log_order.assigned": __("Assigned"),
    "log_order.auto_assigned": __("Assigned automatically"),
    "log_order.unassigned": __("Unassigned"),
    "log_order.status_changed": __("Status changed"),
    "log_order.reopened": __("Reopened"),
    "log_task.added": __("Task added"),
    "log_task.done": __("Task done"),
    "log_task.postponed": __("Task postponed"),
    "log_task.reopened": __("Task reopened"),
    "log_task.reassigned": __("Task reassigned"),
    "board": __("Board"),
    "services": __("Services"),
    "balance": __("Balance"),
    "auto_renew": __("Auto-renew"),
    "ends_on": __("Ends {date}"),
    "return_days": __("Days left to return it: {days}"),
    "svc_ordered": __("Ordered"),
    "svc_needs_setup": __("Needs setup"),
    "svc_active": __("Working"),
    "svc_suspended": __("Stopped: not enough money"),
    "svc_disconnected": __("Disconnected"),
    "svc_closed": __("Closed"),
    "no_services": __("No services connected."),
    "runway_none": __("Nothing renews automatically."),
    "runway_year": __("The balance covers every renewal for the next 12 months."),
    "runway_until": __("The balance covers renewals until {date}."),
    "runway_short": __("Short by {amount} for renewals on {date}."),
    "return": __("Return for {price}"),
    "return_confirm": __("Return the service? {price} will be charged from the balance."),
    # What a return does (the same words as the bot's confirmation).
    "return_balance": __("Balance now: {balance} → after the charge: {after}."),
    "return_renews": __("It renews on {date}."),
    "return_ends": __("Auto-renew is off: it ends on {date}."),
    "return_reach": __("The balance will cover {after} (now: {before})."),
    "return_reach_same": __("The balance still covers {reach}."),
    "reach_year": __("every renewal of the next 12 months"),
    "reach_until": __("renewals until {date}"),
    "return_not_covered": __("⚠️ After this charge the balance will not cover:"),
    "return_not_covered_line": __("• {date}: {name}, {price}"),
    "report": __("Report"),
    "period_today": __("Today"),
    "period_7d": __("7 days"),
    "period_month": __("This month"),
    "period_last_month": __("Last month"),
    "revenue": __("Revenue"),
    "average": __("Average"),
    "orders_done": __("Completed orders"),
    "orders_open": __("Still open"),
    "share": __("Share of revenue"),
    "no_sales": __("No sales in this period."),
    "no_assignee": __("Without an assignee"),
    "back": __("Back"),
    "error": __("Something went wrong. Try again."),
    "offline": __("No connection to the server. Retrying…"),
    "auth_missing": __("Open the board from the bot's menu in Telegram."),
    "auth_invalid": __("Telegram's signature does not match. Open the board from the bot again."),
    "auth_expired": __("The sign-in has expired. Close the board and open it again from the bot."),
    "blocked": __("Your access has been blocked. Ask the account's admin."),
    "not_member": __("You are not a member of any account. Ask your admin for an invite link."),
    "bad_body": __("The request could not be read."),
}


def webapp_texts(i18n: I18n) -> Callable[[str], dict[str, str]]:
    """locale → the page's texts, translated once per locale."""
    done: dict[str, dict[str, str]] = {}

    def texts(locale: str) -> dict[str, str]:
        if locale not in done:
            with i18n.context(), i18n.use_locale(locale):
                done[locale] = {key: str(text) for key, text in TEXTS.items()}
                # "{n} orders" in each plural category the page's Intl.PluralRules names.
                for category, n in (("one", 1), ("few", 2), ("many", 5), ("other", 5)):
                    done[locale][f"orders_{category}"] = ngettext("{n} order", "{n} orders", n)
        return done[locale]

    return texts


_TAG = re.compile(r"<[^>]+>")


def webapp_explainer(i18n: I18n) -> Callable[[DomainError, str], str]:
    """A domain error in the member's language as plain text, for the page's error answers."""

    def explain(error: DomainError, locale: str) -> str:
        with i18n.context(), i18n.use_locale(locale):
            return html.unescape(_TAG.sub("", error_text(error)))

    return explain


def init_data_checker(token: str) -> Callable[[str], tuple[int, datetime]]:
    """initData → (Telegram user id, auth_date); ValueError unless signed with `token`."""

    # The page sends the same initData with every call: a string that was checked once holds
    # for good (its age is judged on each call); a refused one is never kept.
    @functools.lru_cache(maxsize=1024)
    def check(init_data: str) -> tuple[int, datetime]:
        data = safe_parse_webapp_init_data(token, init_data)  # ValueError when it does not hold
        if data.user is None:
            raise ValueError("initData names no user")
        return data.user.id, data.auth_date

    return check


def open_board_button(url: str | None) -> InlineKeyboardButton | None:
    """The "Open board" button for /orders, order cards and /services (None: no Mini App)."""
    if not url:
        return None
    return InlineKeyboardButton(text=_("Open board"), web_app=WebAppInfo(url=url))


def with_board_button(
    markup: InlineKeyboardMarkup | None, url: str | None, chat: Chat | None = None
) -> InlineKeyboardMarkup | None:
    """`markup` with an "Open board" row at the bottom (unchanged while WEBAPP_URL is unset,
    and in `chat` unless it is private: Telegram takes web_app buttons only there)."""
    button = open_board_button(url)
    if button is None or (chat is not None and chat.type != ChatType.PRIVATE):
        return markup
    rows = list(markup.inline_keyboard) if markup is not None else []
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [button]])


def chat_menu(url: str | None) -> Callable[[dict[str, Any]], ChatMenu]:
    """Renders a member's menu change (core/members/menu.py) in their language: the board's
    button, or Telegram's default; nothing at all while WEBAPP_URL is not set."""

    def render(params: dict[str, Any]) -> ChatMenu:
        if not url:
            return ChatMenu(None)
        if params.get("board"):
            return ChatMenu(MenuButtonWebApp(text=_("Board"), web_app=WebAppInfo(url=url)))
        return ChatMenu(MenuButtonDefault())

    return render
