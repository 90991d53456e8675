from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.members import service
from core.members.access import check_access
from core.members.invites import accept_invite, create_invite, hash_token
from core.members.models import Invite, Member, MemberStatus
from tests.support.factories import actor_for, join, new_account

TTL = timedelta(hours=48)


async def audit_actions(uows, account_id) -> list[str]:
    async with uows() as uow:
        rows = await uow.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.account_id == account_id)
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def test_account_has_owner_with_every_permission(uows):
    owner = await new_account(uows)
    assert owner.is_owner
    assert {"billing.manage", "users.manage", "orders.view_all"} <= set(owner.permissions)
    assert await audit_actions(uows, owner.account_id) == ["account.created"]


async def test_invite_token_is_stored_hashed_and_joins_with_role(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        created = await create_invite(uow, owner, "admin", ttl=TTL)
    assert len(created.token) >= 22  # ≥128 bits, URL-safe
    async with uows() as uow:
        stored = (await uow.session.scalars(select(Invite))).one()
    assert stored.token_hash == hash_token(created.token) != created.token
    async with uows() as uow:
        joined = await accept_invite(
            uow, created.token, telegram_id=2001, username="anna", full_name="Anna"
        )
    assert joined.member.role.code == "admin"
    assert (await actor_for(uows, 2001)).can("users.manage")
    assert await audit_actions(uows, owner.account_id) == [
        "account.created",
        "invite.created",
        "member.joined",
    ]


@pytest.mark.parametrize("problem", ["invite_used", "invite_expired", "invite_unknown"])
async def test_bad_invites_change_nothing(uows, clock, problem):
    owner = await new_account(uows)
    async with uows() as uow:
        created = await create_invite(uow, owner, None, ttl=TTL)
    token = created.token
    if problem == "invite_used":
        async with uows() as uow:
            await accept_invite(uow, token, telegram_id=2001, username=None, full_name="A")
    elif problem == "invite_expired":
        clock.advance(TTL)
    else:
        token = "x" * 32
    before = await audit_actions(uows, owner.account_id)
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await accept_invite(uow, token, telegram_id=2002, username=None, full_name="B")
    assert err.value.code == problem
    assert await audit_actions(uows, owner.account_id) == before
    async with uows() as uow:
        assert (await check_access(uow, 2002, username=None, full_name="B")).actor is None


async def test_one_invite_admits_exactly_one_of_many_racers(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        created = await create_invite(uow, owner, None, ttl=TTL)

    async def try_join(tg: int) -> bool:
        try:
            async with uows() as uow:
                await accept_invite(
                    uow, created.token, telegram_id=tg, username=None, full_name="X"
                )
            return True
        except InvalidInput:
            return False

    results = await asyncio.gather(*(try_join(3000 + i) for i in range(10)))
    assert results.count(True) == 1
    async with uows() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Member))
    assert count == 2


async def test_member_of_another_account_cannot_join(uows):
    first = await new_account(uows, owner_tg=1)
    second = await new_account(uows, owner_tg=2)
    await join(uows, first, 50)
    async with uows() as uow:
        created = await create_invite(uow, second, None, ttl=TTL)
    with pytest.raises(Conflict) as err:
        async with uows() as uow:
            await accept_invite(uow, created.token, telegram_id=50, username=None, full_name="")
    assert err.value.code == "member_elsewhere"


async def test_block_refuses_access_and_notifies_once(uows):
    owner = await new_account(uows)
    manager = await join(uows, owner, 2001)
    async with uows() as uow:
        await service.block_member(uow, owner, manager.member_id, "on leave")
    results = []
    for _ in range(3):
        async with uows() as uow:
            results.append(await check_access(uow, 2001, username="user2001", full_name="U"))
    assert [r.blocked for r in results] == [True, True, True]
    assert [r.notify_blocked for r in results] == [True, False, False]
    assert all(r.actor is None for r in results)
    async with uows() as uow:
        await service.unblock_member(uow, owner, manager.member_id)
    assert (await actor_for(uows, 2001)).member_id == manager.member_id
    actions = await audit_actions(uows, owner.account_id)
    assert actions[-2:] == ["member.blocked", "member.unblocked"]


async def test_nobody_acts_on_owner_or_self_and_admins_are_protected(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    admin2 = await join(uows, owner, 2002, "admin")
    manager = await join(uows, owner, 2003)
    cases = [
        (admin, owner.member_id, "owner_protected"),
        (admin, admin.member_id, "self_action"),
        (admin, admin2.member_id, "admin_protected"),
        (manager, admin.member_id, "permission_denied"),
    ]
    for actor, target, code in cases:
        with pytest.raises(PermissionDenied) as err:
            async with uows() as uow:
                await service.block_member(uow, actor, target)
        assert err.value.code == code
    # The owner holds billing.manage and may block an admin.
    async with uows() as uow:
        blocked = await service.block_member(uow, owner, admin2.member_id)
    assert blocked.status == MemberStatus.BLOCKED


async def test_members_of_another_account_are_not_found(uows):
    first = await new_account(uows, owner_tg=1)
    second = await new_account(uows, owner_tg=2)
    stranger = await join(uows, second, 60)
    for call in (service.block_member, service.remove_member, service.member_card):
        with pytest.raises(NotFound):
            async with uows() as uow:
                await call(uow, first, stranger.member_id)


async def test_role_change_cannot_escalate(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    manager = await join(uows, owner, 2002)
    with pytest.raises(PermissionDenied) as err:
        async with uows() as uow:
            await service.change_role(uow, admin, manager.member_id, "owner")
    assert err.value.code == "owner_role"
    async with uows() as uow:
        changed = await service.change_role(uow, owner, manager.member_id, "admin")
    assert changed.role.code == "admin"
    assert (await actor_for(uows, 2002)).can("users.manage")


async def test_removed_member_loses_access_and_can_rejoin(uows):
    owner = await new_account(uows)
    manager = await join(uows, owner, 2001)
    async with uows() as uow:
        await service.remove_member(uow, owner, manager.member_id)
    async with uows() as uow:
        assert (await check_access(uow, 2001, username=None, full_name="")).actor is None
    again = await join(uows, owner, 2001)
    assert again.member_id == manager.member_id


async def test_find_member_by_username_or_telegram_id(uows):
    owner = await new_account(uows)
    manager = await join(uows, owner, 2001, username="Petya")
    async with uows() as uow:
        assert (await service.find_member(uow, owner, "@petya")).id == manager.member_id
        assert (await service.find_member(uow, owner, "2001")).id == manager.member_id
        with pytest.raises(InvalidInput):
            await service.find_member(uow, owner, "petya")
        with pytest.raises(NotFound):
            await service.find_member(uow, owner, "@nobody")


async def test_transfer_ownership(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    async with uows() as uow:
        await service.transfer_ownership(uow, owner, admin.member_id)
    assert (await actor_for(uows, 2001)).is_owner
    assert (await actor_for(uows, owner.telegram_id)).role_code == "admin"
    # Both role changes are in the audit log.
    assert (await audit_actions(uows, owner.account_id))[-2:] == [
        "account.ownership_transferred",
        "member.role_changed",
    ]


async def test_custom_role_copies_base_with_toggles_and_can_be_assigned(uows):
    from core.members.roles import create_role

    owner = await new_account(uows)
    manager = await join(uows, owner, 2001)
    async with uows() as uow:
        role = await create_role(
            uow, owner, "Senior", "manager", ["+orders.assign", "-reports.own"]
        )
    assert role.code == "senior"
    assert "orders.assign" in role.permissions and "reports.own" not in role.permissions
    async with uows() as uow:
        await service.change_role(uow, owner, manager.member_id, "senior")
    senior = await actor_for(uows, 2001)
    assert senior.can("orders.assign") and not senior.can("reports.own")


@pytest.mark.parametrize(
    ("code", "base", "changes", "error"),
    [
        ("admin", "manager", [], "role_code"),
        ("x y", "manager", [], "role_code"),
        ("helper", "owner", [], "role_base_owner"),
        ("helper", "manager", ["+no.such"], "perm_change"),
        ("helper", "manager", ["orders.assign"], "perm_change"),
    ],
)
async def test_custom_role_bad_input_changes_nothing(uows, code, base, changes, error):
    from core.members.roles import create_role

    owner = await new_account(uows)
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await create_role(uow, owner, code, base, changes)
    assert err.value.code == error
    async with uows() as uow:
        assert [r.code for r in await service.list_roles(uow, owner)] == [
            "owner",
            "admin",
            "manager",
        ]


async def test_admin_cannot_create_role_with_billing(uows):
    from core.members.roles import create_role

    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    with pytest.raises(PermissionDenied) as err:
        async with uows() as uow:
            await create_role(uow, admin, "cashier", "manager", ["+billing.manage"])
    assert err.value.code == "role_too_high"
