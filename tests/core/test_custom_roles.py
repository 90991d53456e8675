"""Issue #21, custom roles: names in any script, editable, deletable while nobody holds them,
and a role that reassigns colleagues' orders must see them."""

from __future__ import annotations

import pytest

from core.errors import Conflict, InvalidInput
from core.members import service
from core.members.roles import create_role, delete_role, edit_role
from tests.support.factories import actor_for, join, new_account


async def test_a_role_named_in_cyrillic_is_edited_then_deleted(uows):
    owner = await new_account(uows)
    petya = await join(uows, owner, 3001)
    async with uows() as uow:
        role = await create_role(uow, owner, "Старший", "manager", ["+orders.create"])
    assert role.code == "старший"
    async with uows() as uow:
        await service.change_role(uow, owner, petya.member_id, "СТАРШИЙ")
    async with uows() as uow:
        changed = await edit_role(uow, owner, "старший", ["+orders.assign", "-reports.own"])
    assert "orders.assign" in changed.permissions and "reports.own" not in changed.permissions
    senior = await actor_for(uows, 3001)
    assert senior.can("orders.assign") and not senior.can("reports.own")
    with pytest.raises(Conflict) as err:
        async with uows() as uow:
            await delete_role(uow, owner, "старший")
    assert err.value.code == "role_in_use" and err.value.params["count"] == 1
    async with uows() as uow:
        await service.change_role(uow, owner, petya.member_id, "manager")
    async with uows() as uow:
        assert await delete_role(uow, owner, "старший") == "старший"
    async with uows() as uow:
        assert "старший" not in [r.code for r in await service.list_roles(uow, owner)]


async def test_built_in_roles_are_neither_edited_nor_deleted(uows):
    owner = await new_account(uows)
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await edit_role(uow, owner, "manager", ["+orders.assign"])
    assert err.value.code == "role_builtin"
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await delete_role(uow, owner, "admin")
    assert err.value.code == "role_builtin"


async def test_a_role_that_reassigns_must_see_colleagues_orders(uows):
    owner = await new_account(uows)
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await create_role(
                uow, owner, "dispatcher", "manager", ["+orders.assign", "-orders.view_team"]
            )
    assert err.value.code == "role_assign_needs_view"
    async with uows() as uow:
        await create_role(uow, owner, "dispatcher", "manager", ["+orders.assign"])
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await edit_role(uow, owner, "dispatcher", ["-orders.view_team"])
    assert err.value.code == "role_assign_needs_view"
