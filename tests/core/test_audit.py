"""audit(): one short call writes the entry every service used to spell out in seven lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.audit.service import audit
from core.members.models import Member
from tests.support.factories import join, new_account

ROOT = Path(__file__).resolve().parents[2]
# A hand-built entry, or the old seven-line record(uow, account_id=…, actor_id=…, action=…, …).
COPY = re.compile(r"\bAuditEntry\(|\baction=.+,\s*\n\s*subject_type=")


async def stored(uows, entry_id: int) -> tuple:
    async with uows() as uow:
        e = await uow.session.get(AuditEntry, entry_id)
        return (e.account_id, e.actor_id, e.action, e.subject_type, e.subject_id, e.before, e.after)


async def test_an_actor_gives_the_account_and_the_member(uows):
    owner = await new_account(uows)
    petya = await join(uows, owner, 3001)
    async with uows() as uow:
        member = await uow.session.get(Member, petya.member_id)
        entry = audit(uow, owner, "member.blocked", member, before={"a": 1}, after={"b": 2})
        await uow.commit()
    assert await stored(uows, entry.id) == (
        owner.account_id,
        owner.member_id,
        "member.blocked",
        "member",
        petya.member_id,
        {"a": 1},
        {"b": 2},
    )


async def test_without_an_actor_the_account_is_the_subjects(uows):
    owner = await new_account(uows)
    petya = await join(uows, owner, 3001)
    async with uows() as uow:
        account = await uow.session.get(Account, owner.account_id)
        member = await uow.session.get(Member, petya.member_id)
        by_system = audit(uow, None, "tariff.plan_changed", account)
        by_member = audit(uow, petya.member_id, "member.joined", member, reason="link")
        await uow.commit()
    assert await stored(uows, by_system.id) == (
        owner.account_id,
        None,
        "tariff.plan_changed",
        "account",  # tariff.* entries are about the account
        owner.account_id,
        None,
        None,
    )
    assert (await stored(uows, by_member.id))[:5] == (
        owner.account_id,
        petya.member_id,
        "member.joined",
        "member",
        petya.member_id,
    )
    assert by_member.reason == "link"


async def test_a_subject_may_be_an_id_or_nothing_and_its_type_may_be_named(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        task = audit(uow, owner, "task.added", 42)
        revoked = audit(uow, owner, "api_token.revoked", None)
        named = audit(uow, owner, "account.ownership_transferred", 7, subject_type="member")
        await uow.commit()
    assert (await stored(uows, task.id))[3:5] == ("order", 42)  # a task's entry is its order's
    assert (await stored(uows, revoked.id))[3:5] == ("api_token", None)
    assert (await stored(uows, named.id))[3:5] == ("member", 7)


async def test_without_an_actor_a_subject_must_name_its_account(uows):
    async with uows() as uow:
        with pytest.raises(TypeError):
            audit(uow, None, "api_token.revoked", None)


def test_no_service_spells_out_an_audit_entry_itself():
    """Single entries go through audit(); only the set-based renewal passes insert rows in bulk,
    and the demo back-dates its seeded log."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "core").rglob("*.py")
        if path.parent.name != "audit"
        and path.name != "demo.py"
        and re.search(COPY, path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


async def test_audit_adds_to_the_callers_transaction_only(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        audit(uow, owner, "order.claimed", 1)
        await uow.rollback()
    async with uows() as uow:
        actions = await uow.session.scalars(select(AuditEntry.action))
        assert "order.claimed" not in list(actions)
