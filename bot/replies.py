"""Helpers for a handler's direct answer to the update in front of it."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message


async def replace(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edits the message whose button was pressed; re-tapping the current tab or filter changes
    nothing, which Telegram reports as an error that is not one."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in str(exc):
            raise
