"""Typed buttons of /orders, the order card and announcements (each packs to ≤ 64 bytes)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from core.orders.models import OrderStatus
from core.orders.service import Cursor, OrderTab


class Tab(StrEnum):
    MINE = "m"
    UNASSIGNED = "u"
    ALL = "a"


class StatusCode(StrEnum):
    ANY = "-"
    OPEN = "o"  # new and in progress, oldest first: where Mine opens
    NEW = "n"
    IN_PROGRESS = "p"
    COMPLETED = "c"
    CANCELLED = "x"


TABS = {Tab.MINE: OrderTab.MINE, Tab.UNASSIGNED: OrderTab.UNASSIGNED, Tab.ALL: OrderTab.ALL}
TAB_CODES = {v: k for k, v in TABS.items()}
OPEN = "open"  # the list filter "new and in progress"; not an order status
STATUSES: dict[StatusCode, OrderStatus | str | None] = {
    StatusCode.ANY: None,
    StatusCode.OPEN: OPEN,
    StatusCode.NEW: OrderStatus.NEW,
    StatusCode.IN_PROGRESS: OrderStatus.IN_PROGRESS,
    StatusCode.COMPLETED: OrderStatus.COMPLETED,
    StatusCode.CANCELLED: OrderStatus.CANCELLED,
}
STATUS_CODES = {v: k for k, v in STATUSES.items()}


class OrdersList(CallbackData, prefix="ol"):
    tab: Tab
    status: StatusCode = StatusCode.ANY
    at: int = 0  # cursor: created_at in µs since the epoch; 0 = the first page
    oid: int = 0  # cursor: order id
    back: bool = False  # newer rows than the cursor instead of older

    @property
    def cursor(self) -> Cursor | None:
        return Cursor.of(self.at, self.oid) if self.oid else None

    @classmethod
    def page(
        cls,
        tab: OrderTab,
        status: OrderStatus | str | None,
        cursor: Cursor | None,
        back: bool = False,
    ) -> OrdersList:
        return cls(
            tab=TAB_CODES[tab],
            status=STATUS_CODES[status],
            at=cursor.micros if cursor else 0,
            oid=cursor.id if cursor else 0,
            back=back,
        )


class OrderOp(StrEnum):
    CARD = "card"
    CLAIM = "claim"
    PICK = "pick"  # the member picker
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    STATUSES = "st"  # the status picker
    SET_STATUS = "set"
    CONFIRM = "cf"  # "complete / cancel this order?" before SET_STATUS
    REASON = "why"  # cancel with a reason of one's own words
    LOG = "log"


class OrderCb(CallbackData, prefix="o"):
    op: OrderOp
    order_id: int
    member_id: int = 0
    status: str = ""


class CancelCb(CallbackData, prefix="ocx"):
    """Cancel an order for a reason (a code of core.orders.service.CANCEL_REASONS). Apart from
    OrderCb so buttons already sent keep their shape."""

    order_id: int
    reason: str


class AnnounceClaim(CallbackData, prefix="ann"):
    """The Claim button under an announcement (a member's chat or the manager group)."""

    order_id: int
