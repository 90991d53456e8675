"""Custom roles: a copy of a built-in role with permissions toggled."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import Conflict, InvalidInput
from core.members.actor import Actor
from core.members.models import Role
from core.members.permissions import BUILTIN_ROLES, OWNER, Perm, parse_perms
from core.members.service import check_grantable, get_role

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,29}$")


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
    code = code.strip().lower()
    if not _CODE.match(code) or code in BUILTIN_ROLES:
        raise InvalidInput("role_code", role=code[:30])
    base_role = await get_role(uow, actor.account_id, base)
    if base_role.code == OWNER:
        raise InvalidInput("role_base_owner")
    add, drop = _toggles(changes)
    permissions = (parse_perms(base_role.permissions) | add) - drop
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
