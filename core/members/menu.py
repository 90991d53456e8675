"""A member's chat menu: the board's button while they are an active member, Telegram's
default after a block or a removal.

The change is written to the outbox with the membership change that causes it (one row to the
member's private chat); the sender sets the button (`setChatMenuButton` for that chat). What
the board button opens is the adapter's business. Without the board (WEBAPP_URL unset, so the
unit of work's `chat_menus` is off) nothing is written.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.members.models import Member, MemberStatus
from core.notifications.outbox import Event, Recipient, enqueue, enqueue_many

MENU_KIND = "chat_menu"


def _recipient(member: Member, account: Account) -> Recipient:
    return Recipient(member.telegram_id, member.locale or account.locale, member.id)


async def set_member_menu(uow: UnitOfWork, member: Member, *, board: bool) -> None:
    """In the caller's unit of work: the member's menu becomes the board (joined, unblocked)
    or the default (blocked, removed). Each change is its own message, sent in order."""
    if not uow.chat_menus:
        return
    account = await uow.session.get(Account, member.account_id)
    await enqueue(
        uow,
        account=account,
        event_key=f"menu:{member.id}:{'board' if board else 'default'}:{uuid.uuid4().hex}",
        kind=MENU_KIND,
        params={"board": board},
        recipients=[_recipient(member, account)],
        respect_quiet_hours=False,  # a button, not a notification: nothing rings
    )


async def board_menus(uow: UnitOfWork, tag: str) -> int:
    """At start-up with the board on: the board's button for every active member, once per
    `tag` (the board's address): a restart sends nothing again, a new address does. Commits;
    returns how many new messages were written."""
    members = (
        await uow.session.scalars(
            select(Member)
            .where(Member.status == MemberStatus.ACTIVE)
            .order_by(Member.account_id, Member.id)
        )
    ).all()
    by_account: dict[int, list[Member]] = {}
    for member in members:
        by_account.setdefault(member.account_id, []).append(member)
    added = 0
    for account_id, crew in by_account.items():
        account = await uow.session.get(Account, account_id)
        added += await enqueue_many(
            uow,
            account=account,
            events=[Event(f"menu:board:{tag}:{account_id}", MENU_KIND, {"board": True})],
            recipients=[_recipient(member, account) for member in crew],
            respect_quiet_hours=False,
        )
    await uow.commit()
    return added
