"""Typed buttons of the customer's card (each packs to ≤ 64 bytes)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class CustomerCb(CallbackData, prefix="cu"):
    """Open the customer's card; `order_id`: the order card it was opened from (« Back)."""

    customer_id: int
    order_id: int = 0
