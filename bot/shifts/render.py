"""Texts and the button of /shift."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.format import when
from bot.shifts.callbacks import ShiftCb
from core.orders.shifts import ShiftState


def button(state: ShiftState) -> InlineKeyboardMarkup:
    text = _("🔴 End my shift") if state.on else _("🟢 Start my shift")
    data = ShiftCb(on=not state.on).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)]]
    )


def state_text(state: ShiftState, timezone: str) -> str:
    if state.on:
        text = _("🟢 You are on shift since {since}: unclaimed orders come to you.")
        return text.format(since=when(state.since, timezone) if state.since else "—")
    return _("⚪ You are off shift: new orders are not given to you.")


def usage() -> str:
    return _("Usage: /shift on or /shift off.")
