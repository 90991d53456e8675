"""Members: list, card, block, unblock, role change, removal, ownership, language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import func, select

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.members.actor import Actor
from core.members.menu import set_member_menu
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import ADMIN, OWNER, Perm, parse_perms
from core.tariff.catalog import Catalog, load_catalog
from core.tariff.seats import apply_repricing, lock_account, seat_change

USERS_PAGE_SIZE = 8
LOCALES = ("ru", "en")


class MemberAction(StrEnum):
    BLOCK = "block"
    UNBLOCK = "unblock"
    ROLE = "role"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class MembersPage:
    members: list[Member]
    page: int
    has_next: bool
    on_shift: tuple[str, ...] = ()  # everyone on shift now (all pages), by name


@dataclass(frozen=True, slots=True)
class MemberCard:
    member: Member
    actions: tuple[MemberAction, ...]


async def get_member(uow: UnitOfWork, actor: Actor, member_id: int) -> Member:
    """A member of the actor's own account; anything else is 'not found'."""
    member = await uow.session.get(Member, member_id)
    if member is None or member.account_id != actor.account_id:
        raise NotFound("member_not_found")
    if member.status == MemberStatus.REMOVED:
        raise NotFound("member_not_found")
    return member


async def find_member(uow: UnitOfWork, actor: Actor, ref: str) -> Member:
    """'@username' or a Telegram id, within the actor's account."""
    ref = ref.strip()
    query = select(Member).where(
        Member.account_id == actor.account_id, Member.status != MemberStatus.REMOVED
    )
    if ref.startswith("@") and len(ref) > 1:
        query = query.where(func.lower(Member.username) == ref[1:].lower())
    elif ref.isdigit() and len(ref) <= 19:
        query = query.where(Member.telegram_id == int(ref))
    else:
        raise InvalidInput("member_ref", ref=ref[:64])
    member = (await uow.session.scalars(query.limit(1))).first()
    if member is None:
        raise NotFound("member_not_found", ref=ref[:64])
    return member


async def list_members(uow: UnitOfWork, actor: Actor, page: int = 0) -> MembersPage:
    actor.require(Perm.USERS_MANAGE)
    if page < 0:
        raise InvalidInput("page_gone")
    rows = list(
        await uow.session.scalars(
            select(Member)
            .where(Member.account_id == actor.account_id, Member.status != MemberStatus.REMOVED)
            .order_by(Member.id)
            .offset(page * USERS_PAGE_SIZE)
            .limit(USERS_PAGE_SIZE + 1)
        )
    )
    if page > 0 and not rows:
        raise InvalidInput("page_gone")
    on_shift = await uow.session.scalars(
        select(Member)
        .where(
            Member.account_id == actor.account_id,
            Member.status == MemberStatus.ACTIVE,
            Member.on_shift.is_(True),
        )
        .order_by(Member.full_name, Member.id)
    )
    names = tuple(m.display_name for m in on_shift)
    return MembersPage(rows[:USERS_PAGE_SIZE], page, len(rows) > USERS_PAGE_SIZE, names)


def _check_can_act(actor: Actor, target: Member) -> None:
    actor.require(Perm.USERS_MANAGE)
    actor.require_writable()
    if target.id == actor.member_id:
        raise PermissionDenied("self_action")
    if target.role.code == OWNER:
        raise PermissionDenied("owner_protected")
    target_perms = parse_perms(target.role.permissions)
    if Perm.USERS_MANAGE in target_perms and not actor.can(Perm.BILLING_MANAGE):
        raise PermissionDenied("admin_protected")


def allowed_actions(actor: Actor, target: Member) -> tuple[MemberAction, ...]:
    try:
        _check_can_act(actor, target)
    except PermissionDenied:
        return ()
    toggle = MemberAction.UNBLOCK if target.status == MemberStatus.BLOCKED else MemberAction.BLOCK
    return (toggle, MemberAction.ROLE, MemberAction.REMOVE)


async def member_card(uow: UnitOfWork, actor: Actor, member_id: int) -> MemberCard:
    actor.require(Perm.USERS_MANAGE)
    member = await get_member(uow, actor, member_id)
    return MemberCard(member, allowed_actions(actor, member))


def _clean_reason(reason: str | None) -> str | None:
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise InvalidInput("reason_too_long", limit=500)
    return reason or None


async def block_member(
    uow: UnitOfWork, actor: Actor, member_id: int, reason: str | None = None
) -> Member:
    member = await get_member(uow, actor, member_id)
    _check_can_act(actor, member)
    reason = _clean_reason(reason)
    if member.status == MemberStatus.BLOCKED:
        raise InvalidInput("already_blocked", name=member.display_name)
    member.status = MemberStatus.BLOCKED
    member.blocked_reason = reason
    member.block_notice_sent = False
    before, after = {"status": "active"}, {"status": "blocked"}
    audit(uow, actor, "member.blocked", member, before=before, after=after, reason=reason)
    await set_member_menu(uow, member, board=False)
    await uow.commit()
    return member


async def unblock_member(uow: UnitOfWork, actor: Actor, member_id: int) -> Member:
    member = await get_member(uow, actor, member_id)
    _check_can_act(actor, member)
    if member.status != MemberStatus.BLOCKED:
        raise InvalidInput("not_blocked", name=member.display_name)
    member.status = MemberStatus.ACTIVE
    member.blocked_reason = None
    member.block_notice_sent = False
    before, after = {"status": "blocked"}, {"status": "active"}
    audit(uow, actor, "member.unblocked", member, before=before, after=after)
    await set_member_menu(uow, member, board=True)
    await uow.commit()
    return member


async def get_role(uow: UnitOfWork, account_id: int, code: str) -> Role:
    role = (
        await uow.session.scalars(
            select(Role).where(Role.account_id == account_id, Role.code == code.strip().lower())
        )
    ).first()
    if role is None:
        raise NotFound("role_not_found", role=code[:40])
    return role


async def list_roles(uow: UnitOfWork, actor: Actor) -> list[Role]:
    actor.require(Perm.USERS_MANAGE)
    return list(
        await uow.session.scalars(
            select(Role).where(Role.account_id == actor.account_id).order_by(Role.id)
        )
    )


def check_grantable(actor: Actor, role: Role) -> None:
    """Nobody hands out the owner role, or permissions they do not hold themselves."""
    if role.code == OWNER:
        raise PermissionDenied("owner_role")
    if not parse_perms(role.permissions) <= actor.permissions:
        raise PermissionDenied("role_too_high", role=role.code)


async def change_role(uow: UnitOfWork, actor: Actor, member_id: int, role_code: str) -> Member:
    return await _set_role(uow, actor, member_id, await get_role(uow, actor.account_id, role_code))


async def change_role_by_id(uow: UnitOfWork, actor: Actor, member_id: int, role_id: int) -> Member:
    role = await uow.session.get(Role, role_id)
    if role is None or role.account_id != actor.account_id:
        raise NotFound("role_not_found", role=str(role_id))
    return await _set_role(uow, actor, member_id, role)


async def _set_role(uow: UnitOfWork, actor: Actor, member_id: int, role: Role) -> Member:
    member = await get_member(uow, actor, member_id)
    _check_can_act(actor, member)
    check_grantable(actor, role)
    if role.id == member.role_id:
        raise InvalidInput("same_role", role=role.code)
    before = member.role.code
    member.role_id = role.id
    member.role = role
    audit(
        uow,
        actor,
        "member.role_changed",
        member,
        before={"role": before},
        after={"role": role.code},
    )
    await uow.commit()
    return member


@dataclass(frozen=True, slots=True)
class Removal:
    """A member's removal and what it does to the subscription's paid-through date."""

    member: Member
    paid_through_before: date | None
    paid_through_after: date | None


async def removal_preview(
    uow: UnitOfWork, actor: Actor, member_id: int, *, catalog: Catalog | None = None
) -> Removal:
    """What removing the member would do (a paid seat gives days back); changes nothing."""
    member = await get_member(uow, actor, member_id)
    _check_can_act(actor, member)
    account = await uow.session.get(Account, actor.account_id)
    change = await seat_change(uow, account, -1, catalog or load_catalog())
    return Removal(member, account.paid_through, change.paid_through_after)


async def remove_member(
    uow: UnitOfWork, actor: Actor, member_id: int, *, catalog: Catalog | None = None
) -> Member:
    return (await remove_member_dated(uow, actor, member_id, catalog=catalog)).member


async def remove_member_dated(
    uow: UnitOfWork, actor: Actor, member_id: int, *, catalog: Catalog | None = None
) -> Removal:
    """Frees the member's seat; a paid seat gives its prepaid value back as days."""
    # Locked first: a removal racing another seat change sees the member's status after it.
    account = await lock_account(uow, actor.account_id)
    member = await get_member(uow, actor, member_id)
    _check_can_act(actor, member)
    change = await seat_change(uow, account, -1, catalog or load_catalog())
    paid_before = account.paid_through
    before = member.status
    member.status = MemberStatus.REMOVED
    audit(
        uow, actor, "member.removed", member, before={"status": before}, after={"status": "removed"}
    )
    apply_repricing(uow, account, change, actor_id=actor.member_id, action="tariff.seats_changed")
    await set_member_menu(uow, member, board=False)
    paid_after = account.paid_through
    await uow.commit()
    return Removal(member, paid_before, paid_after)


async def transfer_target(uow: UnitOfWork, actor: Actor, member_id: int) -> Member:
    """Who /transfer would make the owner, checked before the owner is asked to confirm."""
    if not actor.is_owner:
        raise PermissionDenied("owner_only")
    actor.require_writable()
    member = await get_member(uow, actor, member_id)
    if member.id == actor.member_id:
        raise PermissionDenied("self_action")
    if member.status != MemberStatus.ACTIVE:
        raise InvalidInput("member_blocked", name=member.display_name)
    return member


async def transfer_ownership(uow: UnitOfWork, actor: Actor, member_id: int) -> Member:
    """Confirmed: the member becomes the owner, the owner an admin (no way back but theirs)."""
    member = await transfer_target(uow, actor, member_id)
    me = await get_member(uow, actor, actor.member_id)
    owner_role = await get_role(uow, actor.account_id, OWNER)
    admin_role = await get_role(uow, actor.account_id, ADMIN)
    previous = member.role.code
    member.role_id, member.role = owner_role.id, owner_role
    me.role_id, me.role = admin_role.id, admin_role
    audit(
        uow,
        actor,
        "account.ownership_transferred",
        member,
        before={"role": previous},
        after={"role": OWNER},
        subject_type="member",
    )
    audit(uow, actor, "member.role_changed", me, before={"role": OWNER}, after={"role": ADMIN})
    await uow.commit()
    return member


async def set_locale(uow: UnitOfWork, actor: Actor, locale: str) -> str:
    locale = locale.strip().lower()
    if locale not in LOCALES:
        raise InvalidInput("locale", locale=locale[:8])
    member = await get_member(uow, actor, actor.member_id)
    member.locale = locale
    await uow.commit()
    return locale
