"""What a member sees of a customer in a line: on an order card (core.orders.views) and in /find."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """The one line on an order card: every order of the customer, this one included."""

    customer_id: int
    orders: int
    spent: int  # kopecks: completed orders in the account's currency
    currency: str
    first_at: datetime  # the first and last orders' times (the shop's, else intake's)
    last_at: datetime
    usual_manager: str | None  # who handled most of their orders (ties: the latest)


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """A customer in /find."""

    id: int
    name: str
    phone: str | None
    email: str | None
    orders: int
