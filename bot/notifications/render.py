"""Outbox messages → text and buttons, in the recipient's language, at send time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.alerts.render import alert_renderers
from bot.digest.render import digest
from bot.invoices.notices import invoice_renderers
from bot.notifications.document import DocumentMessage
from bot.notifications.menu import ChatMenu
from bot.orders.notices import order_renderers
from bot.tasks import render as tasks
from bot.webapp import chat_menu
from core.members.menu import MENU_KIND

Rendered = tuple[str, InlineKeyboardMarkup | None] | DocumentMessage | ChatMenu
Renderer = Callable[[dict[str, Any]], Rendered]


def _test_message(params: dict[str, Any]) -> Rendered:
    return _("Test notification #{n}").format(n=params.get("n", 0)), None


def renderers(board_url: str | None = None) -> dict[str, Renderer]:
    """Every notification kind the sender knows; features add theirs here. `board_url`: the
    Mini App's address (WEBAPP_URL) the members' menu button opens."""
    return {
        "test": _test_message,
        **alert_renderers(),
        **order_renderers(),
        **invoice_renderers(),
        "task_due": tasks.reminder,
        "task_assigned": tasks.assigned,
        MENU_KIND: chat_menu(board_url),
        "digest": digest,
    }


class UnknownKind(LookupError):
    pass


def render(kind: str, params: dict[str, Any], table: dict[str, Renderer]) -> Rendered:
    try:
        renderer = table[kind]
    except KeyError:
        raise UnknownKind(kind) from None
    return renderer(params)
