"""Custom roles: a copy of a built-in role with permissions toggled."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import Conflict, InvalidInput
from core.members.actor import Actor
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import BUILTIN_ROLES, MANAGER, OWNER, Perm, parse_perms
from core.members.service import check_grantable, get_role

# A role's name: letters of any script first, then letters, digits, '_' or '-' (2–30 in all).
_CODE = re.compile(r"^[^\W\d_][\w-]{1,29}$")


def check_consistent(permissions: set[Perm] | frozenset[Perm]) -> None:
    """A role that may reassign a colleague's order must be able to see it."""
    if Perm.ORDERS_ASSIGN in permissions and not (
        Perm.ORDERS_VIEW_TEAM in permissions or Perm.ORDERS_VIEW_ALL in permissions
    ):
        raise InvalidInput("role_assign_needs_view")


def _toggles(changes: list[str]) -> tuple[set[Perm], set[Perm]]:
    known = {p.value: p for p in Perm}
    add, drop = set(), set()
    for change in changes:
        sign, name = change[:1], change[1:]
        if sign not in "+-" or name not in known:
            raise InvalidInput("perm_change", change=change[:40])
        (add if sign == "+" else drop).add(known[name])
    return add, drop


async def create_role(
    uow: UnitOfWork, actor: Actor, code: str, base: str, changes: list[str]
) -> Role:
    actor.require(Perm.USERS_MANAGE)
    actor.require_writable()
    code = code.strip().lower()
    if not _CODE.match(code) or code in BUILTIN_ROLES:
        raise InvalidInput("role_code", role=code[:30])
    base_role = await get_role(uow, actor.account_id, base)
    if base_role.code == OWNER:
        raise InvalidInput("role_base_owner")
    add, drop = _toggles(changes)
    permissions = (parse_perms(base_role.permissions) | add) - drop
    check_consistent(permissions)
    role = Role(
        account_id=actor.account_id, code=code, builtin=False, permissions=sorted(permissions)
    )
    check_grantable(actor, role)
    exists = await uow.session.scalar(
        select(Role.id).where(Role.account_id == actor.account_id, Role.code == code)
    )
    if exists is not None:
        raise Conflict("role_exists", role=code)
    uow.session.add(role)
    await uow.session.flush()
    after = {"code": code, "base": base_role.code, "permissions": role.permissions}
    audit(uow, actor, "role.created", role, after=after)
    await uow.commit()
    return role


async def _custom(uow: UnitOfWork, actor: Actor, code: str) -> Role:
    role = await get_role(uow, actor.account_id, code.strip().lower())
    if role.builtin:
        raise InvalidInput("role_builtin", role=role.code)
    return role


async def edit_role(uow: UnitOfWork, actor: Actor, code: str, changes: list[str]) -> Role:
    """/editrole CODE +perm -perm: a custom role's permissions toggled (its members' too)."""
    actor.require(Perm.USERS_MANAGE)
    actor.require_writable()
    role = await _custom(uow, actor, code)
    add, drop = _toggles(changes)
    if not add and not drop:
        raise InvalidInput("perm_change", change="")
    before = sorted(role.permissions)
    permissions = (parse_perms(role.permissions) | add) - drop
    check_consistent(permissions)
    check_grantable(actor, Role(code=role.code, permissions=sorted(permissions)))
    role.permissions = sorted(permissions)
    audit(
        uow,
        actor,
        "role.changed",
        role,
        before={"permissions": before},
        after={"code": role.code, "permissions": role.permissions},
    )
    await uow.commit()
    return role


async def delete_role(uow: UnitOfWork, actor: Actor, code: str) -> str:
    """/delrole CODE: a custom role nobody holds (removed members move to the manager role)."""
    actor.require(Perm.USERS_MANAGE)
    actor.require_writable()
    role = await _custom(uow, actor, code)
    holders = list(await uow.session.scalars(select(Member).where(Member.role_id == role.id)))
    current = [m for m in holders if m.status != MemberStatus.REMOVED]
    if current:
        raise Conflict("role_in_use", role=role.code, count=len(current))
    if holders:
        fallback = await get_role(uow, actor.account_id, MANAGER)
        for member in holders:
            member.role_id = fallback.id
    audit(
        uow,
        actor,
        "role.deleted",
        role,
        before={"code": role.code, "permissions": role.permissions},
    )
    await uow.session.flush()
    await uow.session.delete(role)
    await uow.commit()
    return role.code
