"""What orders tell other chats: announcements of new orders, their edits, assignment notices.

Each is an outbox row written in the transaction of the change that causes it, so a change
and its messages commit together or not at all; the sender delivers them under its rate limits,
once per event. An announcement's edit names the announcement's event key: the sender edits the
message that went out under it, once it has gone out. None waits for quiet hours: orders are
work in progress, and these messages were always immediate.
"""

from __future__ import annotations

from typing import Any

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.db.uow import UnitOfWork
from core.notifications import outbox
from core.notifications.outbox import Event
from core.orders.announce import announcement_recipients
from core.orders.models import CLOSED_STATUSES, Order, OrderStatus

# More new orders than this at once (a CSV import) get one summary instead of one message each.
ANNOUNCE_EACH_LIMIT = 10

ANNOUNCED = "order_announced"
ANNOUNCED_MANY = "orders_announced"
ANNOUNCEMENT_EDIT = "order_announcement_edit"
ASSIGNED_TO_YOU = "order_assigned_to_you"
TAKEN_FROM_YOU = "order_taken_from_you"
CLAIMED = "order_claimed"
CHANGED_BY_STORE = "order_changed_by_store"
AUTO_ASSIGNED = "order_auto_assigned"
UNCLAIMED = "order_unclaimed"  # re-announced to the managers on shift
ESCALATED = "order_escalated"  # to the owner and admins who opted in to alerts
UNCLAIMED_MANY = "orders_unclaimed"  # the same for many orders at once, as a count
ESCALATED_MANY = "orders_escalated"


def announcement_key(order_id: int) -> str:
    return f"order:{order_id}:announced"


def claim_step_key(order_id: int, step: int) -> str:
    """The event of a claim timer's step (core.orders.claims): re-announced, escalated."""
    return f"order:{order_id}:claim_step:{step}"


def order_params(order: Order, holder: str | None, timezone: str) -> dict[str, Any]:
    """What a message about an order shows (the summary only: never customer details)."""
    return {
        "order_id": order.id,
        "number": order.number,
        "status": str(order.status),
        "total": order.total,
        "currency": order.currency,
        "created_at": order.created_at.isoformat(),
        "holder": holder,
        "tz": timezone,
    }


def shown_as(status: str, holder: str | None) -> tuple[str, ...]:
    """How an announcement looks for an order in this state: open, taken by someone, closed."""
    if OrderStatus(status) in CLOSED_STATUSES:
        return ("closed", str(status))
    if holder is not None:
        return ("taken", holder)
    return ("open",)


async def announce_new(uow: UnitOfWork, account: Account, orders: list[Order]) -> int:
    """Announces new unassigned orders to everyone who asked; returns how many rows it wrote."""
    fresh = [o for o in orders if o.assignee_id is None]
    if not fresh:
        return 0
    recipients = await announcement_recipients(uow, account)
    if len(fresh) > ANNOUNCE_EACH_LIMIT:
        key = f"orders:{account.id}:announced:{fresh[0].id}-{fresh[-1].id}"
        events = [Event(key, ANNOUNCED_MANY, {"count": len(fresh)})]
    else:
        events = [
            Event(announcement_key(o.id), ANNOUNCED, order_params(o, None, account.timezone))
            for o in fresh
        ]
    return await outbox.enqueue_many(
        uow, account=account, events=events, recipients=recipients, respect_quiet_hours=False
    )


async def show_change(
    uow: UnitOfWork,
    account: Account,
    order: Order,
    holder: str | None,
    before: tuple[str, ...],
    entry: AuditEntry,
) -> int:
    """Edits the order's announcements when the change alters how they look (`before`), and
    the claim timer's re-announcement of it if one went out. (Not the escalation: its buttons
    turn that very message into the picker and the card, which an edit would overwrite.)"""
    if shown_as(order.status, holder) == before:
        return 0
    await uow.session.flush()  # the audit entry's id makes the event key
    params = order_params(order, holder, account.timezone)
    key = f"order:{order.id}:shown:{entry.id}"
    event = Event(key, ANNOUNCEMENT_EDIT, params, edit_of=announcement_key(order.id))
    added = await outbox.enqueue_edit(uow, account=account, event=event)
    if order.claim_step:
        edit_of = claim_step_key(order.id, 1)
        event = Event(f"{key}:1", ANNOUNCEMENT_EDIT, params, edit_of=edit_of)
        added += await outbox.enqueue_edit(uow, account=account, event=event)
    return added


async def _tell(
    uow: UnitOfWork, account: Account, member_id: int, key: str, kind: str, params: dict
) -> int:
    recipient = await outbox.member_recipient(uow, member_id)
    if recipient is None:  # blocked, removed or unreachable: nobody to tell
        return 0
    return await outbox.enqueue(
        uow,
        account=account,
        event_key=key,
        kind=kind,
        params=params,
        recipients=[recipient],
        respect_quiet_hours=False,
    )


async def tell_member(
    uow: UnitOfWork, account: Account, member_id: int, key: str, kind: str, params: dict
) -> int:
    """One message to one member about an order (skipped when they cannot be reached)."""
    return await _tell(uow, account, member_id, key, kind, params)


async def tell_assignees(
    uow: UnitOfWork,
    account: Account,
    order: Order,
    previous: tuple[int, str] | None,
    new: tuple[int, str] | None,
    entry: AuditEntry,
) -> None:
    """ "Assigned to you" to the new assignee, "taken from you" to the previous one
    (each a (member id, display name))."""
    await uow.session.flush()
    params = order_params(order, new[1] if new else None, account.timezone)
    if previous is not None:
        key = f"order:{order.id}:taken_from:{entry.id}"
        await _tell(uow, account, previous[0], key, TAKEN_FROM_YOU, params)
    if new is not None:
        key = f"order:{order.id}:assigned_to:{entry.id}"
        await _tell(uow, account, new[0], key, ASSIGNED_TO_YOU, params)


async def tell_claimer(
    uow: UnitOfWork, account: Account, order: Order, member_id: int, holder: str, entry: AuditEntry
) -> None:
    """A claim from an announcement (maybe in the group): the order, with Open, in private."""
    await uow.session.flush()
    params = order_params(order, holder, account.timezone)
    await _tell(uow, account, member_id, f"order:{order.id}:claimed:{entry.id}", CLAIMED, params)
