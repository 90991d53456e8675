from __future__ import annotations

import re

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.members.models import Member, MemberStatus
from tests.support.factories import actor_for

OWNER = 1000


async def test_stranger_gets_one_explanation(client):
    reply = await client(555).send("/start")
    assert len(reply.messages) == 1
    assert "пригласительную ссылку" in reply.text or "invite link" in reply.text
    assert reply.buttons == []


async def test_invite_link_joins_and_greets_by_name(client, shop, uows):
    reply = await client(2000, username="admin").send("/invite manager")
    link = re.search(r"https://t\.me/shopdesk_test_bot\?start=(\S+)", reply.text)
    assert link, reply.text
    newcomer = client(4444, first_name="Ольга", username="olga")
    greeting = await newcomer.send(f"/start {link.group(1)}")
    assert "Ольга" in greeting.text
    joined = await actor_for(uows, 4444)
    assert joined.role_code == "manager"
    # The link is single-use.
    again = await client(4445).send(f"/start {link.group(1)}")
    assert "уже использована" in again.text or "already been used" in again.text


async def test_block_from_card_refuses_every_update_with_one_reply(client, shop, uows):
    admin = client(2000, username="admin")
    await admin.send("/users")
    await admin.click("@petya")
    reply = await admin.click("Заблок")
    assert "заблокирован" in reply.alert
    petya = client(3001, username="petya")
    first = await petya.send("/help")
    assert len(first.messages) == 1
    second = await petya.send("/help")
    assert second.messages == []
    pressed = await petya.press("users:0")
    assert pressed.answered_callback and pressed.messages == []
    await admin.send("/unblock @petya")
    assert "Ваша роль" in (await petya.send("/help")).text


async def test_block_command_records_reason_in_audit(client, shop, uows):
    reply = await client(OWNER).send("/block @vasya в отпуске")
    assert "@vasya" in reply.text
    async with uows() as uow:
        entry = (
            await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()))
        ).first()
        member = await uow.session.get(Member, shop["m2"].member_id)
    assert (entry.action, entry.reason, entry.actor_id) == (
        "member.blocked",
        "в отпуске",
        shop["owner"].member_id,
    )
    assert member.status == MemberStatus.BLOCKED


async def test_admin_cannot_block_owner_and_nothing_changes(client, shop, uows):
    reply = await client(2000).send(f"/block {OWNER}")
    assert "владельца" in reply.text
    assert (await actor_for(uows, OWNER)).is_owner


async def test_manager_gets_permission_refusal(client, shop):
    reply = await client(3001).send("/users")
    assert "нет прав" in reply.text


async def test_forged_button_for_foreign_member_changes_nothing(client, shop, uows):
    from tests.support.factories import join, new_account

    other_owner = await new_account(uows, owner_tg=9000, name="Other")
    foreign = await join(uows, other_owner, 9001)
    reply = await client(2000).press(f"mb:block:{foreign.member_id}:0")
    assert reply.alert and ("Нет такого" in reply.alert or "No such" in reply.alert)
    assert (await actor_for(uows, 9001)).member_id == foreign.member_id


async def test_garbage_and_oversized_callbacks_are_answered(client, shop):
    for data in ["nonsense", "mb:explode:1:0", "mb:block:notanumber:0", "x" * 100]:
        reply = await client(2000).press(data)
        assert reply.answered_callback
        assert reply.alert


async def test_unknown_command_and_malformed_args(client, shop):
    admin = client(2000)
    assert "/help" in (await admin.send("/frobnicate")).text
    assert "/block @" in (await admin.send("/block")).text
    assert "@username" in (await admin.send("/block petya")).text


async def test_lang_switches_language(client, shop):
    manager = client(3001)
    reply = await manager.send("/lang")
    assert reply.buttons == ["🇷🇺 Русский", "🇬🇧 English"]
    await manager.click("English")
    assert "Your role: manager" in (await manager.send("/help")).text


async def test_help_lists_only_commands_of_the_role(client, shop):
    manager_help = (await client(3001).send("/help")).text
    owner_help = (await client(OWNER).send("/help")).text
    assert "/block" not in manager_help and "/block" in owner_help
    assert "/transfer" in owner_help and "/transfer" not in (await client(2000).send("/help")).text


async def test_history_shows_entries_in_account_zone(client, shop):
    await client(OWNER).send("/block @vasya отпуск")
    reply = await client(2000).send("/history")
    # T0 is 09:00 UTC → 12:00 in Moscow.
    assert "22.11.2026 12:00" in reply.text
    assert "отпуск" in reply.text


async def test_custom_role_by_command(client, shop, uows):
    owner = client(OWNER)
    reply = await owner.send("/newrole senior manager +orders.assign")
    assert "senior" in reply.text and "назначать и передавать заказы" in reply.text
    await owner.send("/role @petya senior")
    assert (await actor_for(uows, 3001)).can("orders.assign")
    bad = await owner.send("/newrole senior2 manager orders.assign")
    assert "+" in bad.text
    assert "/newrole" in (await owner.send("/newrole")).text


async def test_unexpected_error_is_logged_with_update_id_and_apologised(
    client, shop, app, caplog, monkeypatch
):
    from core.members import service

    async def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "list_members", explode)
    reply = await client(2000).send("/users")
    assert "что-то пошло не так" in reply.text
    failed = [r for r in caplog.records if r.getMessage().startswith("update ")]
    assert failed and "failed" in failed[0].getMessage()
    # The bot keeps working.
    assert "Ваша роль" in (await client(2000).send("/help")).text


async def test_page_that_no_longer_exists(client, shop):
    reply = await client(2000).press("users:7")
    assert "страницы больше нет" in reply.alert


async def test_blocked_member_inline_query_is_refused(client, shop, app):
    from aiogram.methods import AnswerInlineQuery
    from aiogram.types import InlineQuery, Update

    await client(OWNER).send("/block @petya")
    petya = client(3001, username="petya")
    query = InlineQuery(id="q1", from_user=petya.user, query="order", offset="")
    reply = await petya.feed(Update(update_id=999_001, inline_query=query))
    answers = [r for r in reply.requests if isinstance(r, AnswerInlineQuery)]
    assert answers and answers[0].results == []


async def test_roles_show_permissions_in_words_and_custom_roles_change(client, shop):
    owner = client(OWNER)
    roles = await owner.send("/roles")
    assert "заказы коллег кратко (<code>orders.view_team</code>)" in roles.text
    created = await owner.send("/newrole кладовщик manager +orders.create")
    assert "кладовщик" in created.text and "вводить и импортировать заказы" in created.text
    changed = await owner.send("/editrole кладовщик -reports.own")
    assert changed.text.startswith("Роль кладовщик теперь может:")
    assert "свой отчёт о продажах" not in changed.text
    assert (await owner.send("/delrole кладовщик")).text == "Роль кладовщик удалена."
