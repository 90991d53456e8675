"""A notification sent as a file (an invoice PDF) instead of a text message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup


@dataclass(frozen=True, slots=True)
class DocumentMessage:
    """A notification sent as a file: `build` makes its bytes (off the event loop, at send
    time), `caption` and `markup` go with it. Documents are sent, never edited."""

    filename: str
    build: Callable[[], bytes]
    caption: str
    markup: InlineKeyboardMarkup | None = None
