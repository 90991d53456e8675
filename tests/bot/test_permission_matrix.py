"""The permission matrix of core/members/permissions.py, tried through the bot.

Every role × every permission: one real action, allowed or refused exactly as the table says.
A permission added to the table without a probe here fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.ledger.models import LedgerEntry
from core.members.permissions import (
    BUILTIN_ROLES,
    OWN_ONLY_AS,
    ROLES,
    Grant,
    Perm,
    grants,
    markdown,
)
from core.orders.models import Order
from core.orders.service import assign_order
from core.tasks.models import Task
from tests.support.orders import add_order

USER_IDS = {"owner": 1000, "admin": 2000, "manager": 3001}
PHONE = "+7 900 123-45-67"
REFUSED = "нет прав"
OUTCOME = {Grant.ALLOWED: True, Grant.REFUSED: False, Grant.OWN_ONLY: "own orders only"}
# {(permission, role): True | False | 'own orders only'}: what a probe through the bot must find.
MATRIX = {(perm.value, role): OUTCOME[cell] for (perm, role), cell in grants().items()}


@pytest.fixture
async def world(app, client, shop, uows):
    app.flood_memory.per_second = 10**6
    account = shop["owner"].account_id
    ids = {
        "OWN-owner": await add_order(uows, account, "OWN-owner"),
        "OWN-admin": await add_order(uows, account, "OWN-admin"),
        "OWN-manager": await add_order(uows, account, "OWN-manager"),
        "TEAM": await add_order(uows, account, "TEAM"),
        "FREE": await add_order(uows, account, "FREE"),
    }
    owners = {"owner": "owner", "admin": "admin", "manager": "m1"}
    for role, key in owners.items():
        async with uows() as uow:
            await assign_order(uow, shop["owner"], ids[f"OWN-{role}"], shop[key].member_id)
    async with uows() as uow:
        await assign_order(uow, shop["owner"], ids["TEAM"], shop["m2"].member_id)
    return {"client": client, "uows": uows, "ids": ids}


async def _count(uows, model, *where) -> int:
    async with uows() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model).where(*where))


async def probe(world, permission: str, role: str) -> bool | str:
    user = world["client"](USER_IDS[role], username={"owner": "owner", "admin": "admin"}.get(role))
    uows, ids = world["uows"], world["ids"]
    own = f"OWN-{role}"
    if permission == "orders.view_own":
        return PHONE in (await user.send(f"/order {own}")).text
    if permission == "orders.view_team":
        return "TEAM" in (await user.send("/order TEAM")).text
    if permission == "orders.view_all":
        return PHONE in (await user.send("/order TEAM")).text
    if permission == "orders.claim":
        await user.send("/claim FREE")
        async with uows() as uow:
            return (await uow.session.get(Order, ids["FREE"])).assignee_id is not None
    if permission == "orders.assign":
        return any("Назначить" in b for b in (await user.send("/order FREE")).buttons)
    if permission == "orders.create":
        return "шаг 1" in (await user.send("/neworder")).text.lower()
    if permission == "tasks.manage":
        await user.send(f"/task {own} Позвонить клиенту")
        return await _count(uows, Task) == 1
    if permission == "services.view":
        return REFUSED not in (await user.send("/services")).text
    if permission == "services.manage":
        return any("Заказать" in b for b in (await user.send("/services")).buttons)
    if permission == "reports.own":
        return REFUSED not in (await user.send("/report today")).texts[-1]
    if permission == "reports.team":
        reply = await user.send("/report today @vasya")  # a colleague's figures
        return any("vasya" in t for t in reply.texts)
    if permission == "audit.view":
        if REFUSED not in (await user.send("/history")).text:
            return True
        await user.send(f"/order {own}")
        return "own orders only" if "Журнал заказа" in (await user.click("История")).text else False
    if permission == "users.manage":
        return REFUSED not in (await user.send("/users")).text
    if permission == "billing.manage":
        confirm = await user.send("/topup 100 MATRIX-1")
        if "✅ Зачислить" in confirm.buttons:
            await user.click("✅ Зачислить")
        return await _count(uows, LedgerEntry) == 1
    raise AssertionError(f"no probe for {permission}: add one")


@pytest.mark.parametrize(("permission", "role"), sorted(MATRIX))
async def test_role_may_do_exactly_what_the_matrix_says(world, permission, role):
    assert await probe(world, permission, role) == MATRIX[(permission, role)]


def test_the_matrix_covers_every_permission_of_the_built_in_roles():
    assert set(USER_IDS) == set(ROLES) == set(BUILTIN_ROLES)
    named = {permission for permission, _ in MATRIX}
    assert named == {p.value for p in Perm} - {Perm.AUDIT_VIEW_OWN.value}
    for (permission, role), allowed in MATRIX.items():
        if allowed is True:
            assert permission in BUILTIN_ROLES[role], (permission, role)


def test_the_built_in_roles_hold_exactly_what_the_matrix_grants():
    for (perm, role), cell in grants().items():
        narrower = OWN_ONLY_AS.get(perm)
        assert (perm in BUILTIN_ROLES[role]) == (cell == Grant.ALLOWED), (perm, role)
        if narrower is not None:
            assert (narrower in BUILTIN_ROLES[role]) == (cell != Grant.REFUSED), (perm, role)
    granted = {perm for (perm, _), cell in grants().items()} | set(OWN_ONLY_AS.values())
    assert set().union(*BUILTIN_ROLES.values()) <= granted


def test_docs_permissions_page_is_the_one_the_matrix_generates():
    page = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
    assert page.read_text(encoding="utf-8") == markdown(), (
        "regenerate it: python -m core.members.permissions > docs/permissions.md"
    )
