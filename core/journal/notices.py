"""Notices of service transitions (suspended, disconnected, renewed after a top-up, returned,
closed), written to the outbox in the transaction that makes the transition.

The event key is the service and its version after the change, so a transition is announced
once however often the job that made it is retried; a rolled-back transition leaves no notice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.ledger.service import balance_of
from core.notifications.outbox import Event, Recipient, alert_recipients, enqueue_many

if TYPE_CHECKING:
    from core.journal.lifecycle import Transition

# The audit action of a transition is also the kind of its notice.
SUSPENDED = "service.suspended"
DISCONNECTED = "service.disconnected"
RESUMED = "service.resumed"
RETURNED = "service.returned"
CLOSED = "service.closed"
ANNOUNCED = frozenset({SUSPENDED, DISCONNECTED, RESUMED, RETURNED, CLOSED})


def event_key(transition: Transition) -> str:
    return f"{transition.action}:{transition.service_id}:v{transition.version}"


async def recipients_for(
    uow: UnitOfWork, account: Account, exclude_member_id: int | None = None
) -> list[Recipient]:
    """The owner and opted-in admins, in a stable order, without the member who acted."""
    chosen = [r for r in await alert_recipients(uow, account) if r.member_id != exclude_member_id]
    return sorted(chosen, key=lambda r: r.chat_id)


async def announce(
    uow: UnitOfWork,
    account: Account,
    transitions: Iterable[Transition],
    *,
    exclude_member_id: int | None = None,
    actor_name: str | None = None,
) -> int:
    """Enqueues a notice for every transition members must hear about; never commits."""
    wanted = [t for t in transitions if t.action in ANNOUNCED]
    if not wanted:
        return 0
    recipients = await recipients_for(uow, account, exclude_member_id)
    if not recipients:
        return 0
    balance = await balance_of(uow, account.id)

    def event(transition: Transition) -> Event:
        params = {
            "service_id": transition.service_id,
            "code": transition.catalog_code,
            "charged": transition.charged,
            "balance": balance,
            **transition.details,
        }
        if actor_name is not None:
            params["actor"] = actor_name
        return Event(event_key(transition), transition.action, params)

    events = (event(t) for t in wanted)  # built as they are written: a big run stays small
    return await enqueue_many(uow, account=account, events=events, recipients=recipients)
