"""Announcements of new orders: /notify orders on|off, /linkgroup, the Claim button under them.

The announcements themselves, and their edits, are outbox messages (core.orders.notices)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.filters import IsMember
from bot.orders import render
from bot.orders.callbacks import AnnounceClaim
from bot.routing import FeatureRouter
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.orders import announce, service

GROUPS = {"group", "supergroup"}
TOPICS = {"orders", "заказы"}


async def cmd_notify(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    topic, _sep, switch = (command.args or "").strip().partition(" ")
    if not topic:
        on = await announce.order_notifications(uow, actor)
        await message.answer(render.notify_state(on))
        return
    if topic.lower() not in TOPICS or not switch.strip():
        await message.answer(render.notify_usage())
        return
    on = await announce.set_order_notifications(uow, actor, announce.parse_switch(switch))
    await message.answer(render.notify_state(on))


async def cmd_linkgroup(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    if (command.args or "").strip().lower() == "off":
        await announce.unlink_group(uow, actor)
        await message.answer(render.group_unlinked())
        return
    group = await announce.link_group(uow, actor, message.chat.id, message.chat.title or "")
    await message.answer(render.group_linked(group.title))


async def cmd_linkgroup_private(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    if (command.args or "").strip().lower() == "off":
        await announce.unlink_group(uow, actor)
        await message.answer(render.group_unlinked())
        return
    await message.answer(render.linkgroup_usage())


async def on_announce_claim(
    query: CallbackQuery,
    callback_data: AnnounceClaim,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    """The claimer's private chat gets the order with Open through the outbox (the button may
    be in the group); the announcements change there too."""
    outcome = await service.claim_order(uow, actor, callback_data.order_id, from_announcement=True)
    callback_answer.text = render.claim_result(outcome)
    callback_answer.show_alert = not outcome.won


async def on_stranger_claim(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("Only members of the shop can claim its orders.")
    callback_answer.show_alert = True


def build_router() -> Router:
    """Member-only, private chats (the parent router scopes them)."""
    router = FeatureRouter(name="orders-announce")
    router.message.register(cmd_notify, Command("notify"))
    router.message.register(cmd_linkgroup_private, Command("linkgroup"))
    router.callback_query.register(on_announce_claim, AnnounceClaim.filter())
    return router


def build_group_router() -> Router:
    """Commands inside the manager group, and Claim pressed there by non-members."""
    router = FeatureRouter(name="orders-group")
    router.message.register(
        cmd_linkgroup, Command("linkgroup"), IsMember(), F.chat.type.in_(GROUPS)
    )
    router.callback_query.register(on_stranger_claim, AnnounceClaim.filter(), ~IsMember())
    return router
