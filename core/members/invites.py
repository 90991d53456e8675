"""Single-use invite links: ≥128 random bits, stored hashed, expiring."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import Conflict, InvalidInput
from core.members.access import load_member
from core.members.actor import Actor
from core.members.menu import set_member_menu
from core.members.models import Invite, Member, MemberStatus
from core.members.permissions import MANAGER, Perm
from core.members.service import check_grantable, get_role
from core.tariff.catalog import Catalog, load_catalog
from core.tariff.pricing import Repricing
from core.tariff.seats import account_lapsed, apply_repricing, lock_account, seat_change

TOKEN_BYTES = 24  # 192 bits; 32 URL-safe characters fit Telegram's 64-character start payload


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CreatedInvite:
    token: str
    invite: Invite
    role_code: str
    seats: Repricing | None = None  # what the join will do to the price, as of now


@dataclass(frozen=True, slots=True)
class SeatConfirmation:
    """Nothing was created: the join would shorten the prepaid period. Show `seats`, and on
    agreement call again with `confirmed_cost=seats.monthly_after`."""

    role_code: str
    seats: Repricing


@dataclass(frozen=True, slots=True)
class Joined:
    member: Member
    account: Account
    rejoined: bool


async def create_invite(
    uow: UnitOfWork,
    actor: Actor,
    role_code: str | None,
    *,
    ttl: timedelta,
    catalog: Catalog | None = None,
    confirmed_cost: int | None = None,
) -> CreatedInvite | SeatConfirmation:
    """A link for one more member. If that member would be a paid seat on a prepaid account,
    the inviter must first agree to the new monthly cost (`confirmed_cost`, kopecks)."""
    actor.require(Perm.USERS_MANAGE)
    actor.require_writable()
    role = await get_role(uow, actor.account_id, role_code or MANAGER)
    check_grantable(actor, role)
    account = await uow.session.get(Account, actor.account_id)
    seats = await seat_change(uow, account, 1, catalog or load_catalog())
    if seats.shortens and (confirmed_cost is None or seats.monthly_after > confirmed_cost):
        return SeatConfirmation(role.code, seats)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = uow.clock.now()
    invite = Invite(
        account_id=actor.account_id,
        token_hash=hash_token(token),
        role_id=role.id,
        created_by=actor.member_id,
        created_at=now,
        expires_at=now + ttl,
        confirmed_monthly_cost=confirmed_cost,
    )
    uow.session.add(invite)
    await uow.session.flush()
    after = {"role": role.code, "expires_at": invite.expires_at.isoformat()}
    if confirmed_cost is not None:
        after["confirmed_monthly_cost"] = confirmed_cost
    audit(uow, actor, "invite.created", invite, after=after)
    await uow.commit()
    return CreatedInvite(token, invite, role.code, seats)


async def accept_invite(
    uow: UnitOfWork,
    token: str,
    *,
    telegram_id: int,
    username: str | None,
    full_name: str,
    catalog: Catalog | None = None,
) -> Joined:
    token = token.strip()
    if not 16 <= len(token) <= 64:
        raise InvalidInput("invite_unknown")
    invite = (
        await uow.session.scalars(select(Invite).where(Invite.token_hash == hash_token(token)))
    ).first()
    now = uow.clock.now()
    if invite is None:
        raise InvalidInput("invite_unknown")
    if invite.used_at is not None:
        raise InvalidInput("invite_used")
    if invite.expires_at <= now:
        raise InvalidInput("invite_expired")
    current = await load_member(uow, telegram_id)
    if current is not None:
        member, account = current
        if account.id == invite.account_id:
            raise Conflict("already_member", account=account.name)
        raise Conflict("member_elsewhere", account=account.name)
    # The seat is priced under the account lock, with the numbers as they are now.
    account = await lock_account(uow, invite.account_id)
    if account_lapsed(uow, account):
        raise InvalidInput("invite_read_only", account=account.name)
    seats = await seat_change(uow, account, 1, catalog or load_catalog())
    confirmed = invite.confirmed_monthly_cost
    if seats.shortens and (confirmed is None or seats.monthly_after > confirmed):
        raise InvalidInput("invite_unconfirmed")
    # Compare-and-set: of two people racing with one link, exactly one gets in.
    claimed = await uow.session.execute(
        update(Invite).where(Invite.id == invite.id, Invite.used_at.is_(None)).values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise InvalidInput("invite_used")
    member = (
        await uow.session.scalars(
            select(Member).where(
                Member.account_id == invite.account_id, Member.telegram_id == telegram_id
            )
        )
    ).first()
    rejoined = member is not None
    if member is None:
        member = Member(account_id=invite.account_id, telegram_id=telegram_id, joined_at=now)
        uow.session.add(member)
    member.username, member.full_name = username, full_name[:200]
    member.role_id = invite.role_id
    member.status = MemberStatus.ACTIVE
    member.block_notice_sent = False
    await uow.session.flush()
    await uow.session.execute(
        update(Invite).where(Invite.id == invite.id).values(used_by=member.id)
    )
    audit(
        uow,
        member.id,
        "member.joined",
        member,
        after={"role_id": invite.role_id, "invite_id": invite.id},
    )
    apply_repricing(uow, account, seats, actor_id=member.id, action="tariff.seats_changed")
    await set_member_menu(uow, member, board=True)
    await uow.commit()
    await uow.session.refresh(member, ["role"])
    return Joined(member, account, rejoined)
