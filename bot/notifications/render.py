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
from bot.orders.notices import order_renderers
from bot.tasks import render as tasks

Rendered = tuple[str, InlineKeyboardMarkup | None] | DocumentMessage
Renderer = Callable[[dict[str, Any]], Rendered]


def _test_message(params: dict[str, Any]) -> Rendered:
    return _("Test notification #{n}").format(n=params.get("n", 0)), None


def renderers() -> dict[str, Renderer]:
    """Every notification kind the sender knows; features add theirs here."""
    return {
        "test": _test_message,
        **alert_renderers(),
        **order_renderers(),
        **invoice_renderers(),
        "task_due": tasks.reminder,
        "task_assigned": tasks.assigned,
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
