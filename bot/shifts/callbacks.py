"""The shift button (under /start and /shift)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ShiftCb(CallbackData, prefix="shift"):
    on: bool  # the state the button asks for
