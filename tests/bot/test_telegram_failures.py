"""Telegram refusing a reply must not lose it or crash the handler."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import EditMessageText, SendMessage

from core.members.models import Member, MemberStatus


def bad_request(method, text: str) -> TelegramBadRequest:
    return TelegramBadRequest(method=method, message=f"Bad Request: {text}")


async def test_edit_not_modified_is_a_quiet_success(client, shop, app):
    admin = client(2000)
    await admin.send("/users")
    app.bot.session.failures[EditMessageText] = [
        bad_request(EditMessageText(text="x"), "message is not modified")
    ]
    reply = await admin.click("@petya")
    assert reply.answered_callback
    assert reply.alert is None  # no apology, no error


async def test_edit_of_a_vanished_message_is_sent_anew(client, shop, app, uows):
    admin = client(2000)
    await admin.send("/users")
    await admin.click("@petya")
    app.bot.session.failures[EditMessageText] = [
        bad_request(EditMessageText(text="x"), "message to edit not found")
    ]
    reply = await admin.click("Заблок")
    sent = [r for r in reply.requests if isinstance(r, SendMessage)]
    assert sent and "Статус: заблокирован" in sent[0].text
    async with uows() as uow:
        assert (await uow.session.get(Member, shop["m1"].member_id)).status == MemberStatus.BLOCKED


async def test_short_429_on_a_reply_is_waited_out_once(client, shop, app):
    app.bot.session.failures[SendMessage] = [
        TelegramRetryAfter(
            method=SendMessage(chat_id=1, text="x"), message="Too Many Requests", retry_after=0
        )
    ]
    reply = await client(3001).send("/help")
    assert "Ваша роль" in reply.text
