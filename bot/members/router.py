"""/users, /invite, /block, /unblock, /role, /remove, /roles, /transfer and the member card."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.deep_linking import create_start_link

from bot.format import when
from bot.members import render
from bot.members.callbacks import (
    HandoverCb,
    InviteCancel,
    InviteSeatCb,
    MemberCb,
    MemberOp,
    UsersPage,
)
from bot.orders import render as orders_render
from bot.routing import FeatureRouter
from bot.tariff import render as tariff_render
from core.db.uow import UnitOfWork
from core.members import service
from core.members.actor import Actor
from core.members.invites import CreatedInvite, SeatConfirmation, create_invite
from core.members.permissions import Perm
from core.members.roles import create_role, delete_role, edit_role
from core.orders.handover import hand_over, receivers
from core.settings import Settings
from core.tariff.catalog import Catalog


async def cmd_users(message: Message, uow: UnitOfWork, actor: Actor) -> None:
    text, markup = render.users_list(await service.list_members(uow, actor))
    await message.answer(text, reply_markup=markup)


async def on_users_page(
    query: CallbackQuery, callback_data: UsersPage, uow: UnitOfWork, actor: Actor
) -> None:
    text, markup = render.users_list(await service.list_members(uow, actor, callback_data.page))
    await query.message.edit_text(text, reply_markup=markup)


async def _show_card(query: CallbackQuery, uow: UnitOfWork, actor: Actor, member_id: int) -> None:
    card = await service.member_card(uow, actor, member_id)
    text, markup = render.member_card(card, actor.timezone, actor.can(Perm.ORDERS_ASSIGN))
    await query.message.edit_text(text, reply_markup=markup)


async def on_handover_pick(
    query: CallbackQuery, callback_data: MemberCb, uow: UnitOfWork, actor: Actor
) -> None:
    giver, found = await receivers(uow, actor, callback_data.member_id)
    text, markup = render.receiver_picker(callback_data.member_id, giver, found)
    await query.message.edit_text(text, reply_markup=markup)


async def on_handover(
    query: CallbackQuery, callback_data: HandoverCb, uow: UnitOfWork, actor: Actor
) -> None:
    done = await hand_over(uow, actor, callback_data.giver, callback_data.receiver)
    await query.message.edit_text(orders_render.handed_over(done))


async def on_card(
    query: CallbackQuery, callback_data: MemberCb, uow: UnitOfWork, actor: Actor
) -> None:
    await _show_card(query, uow, actor, callback_data.member_id)


async def on_block(
    query: CallbackQuery,
    callback_data: MemberCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    member = await service.block_member(uow, actor, callback_data.member_id)
    callback_answer.text = render.done("block", member)
    await _show_card(query, uow, actor, member.id)


async def on_unblock(
    query: CallbackQuery,
    callback_data: MemberCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    member = await service.unblock_member(uow, actor, callback_data.member_id)
    callback_answer.text = render.done("unblock", member)
    await _show_card(query, uow, actor, member.id)


async def on_roles(
    query: CallbackQuery, callback_data: MemberCb, uow: UnitOfWork, actor: Actor
) -> None:
    card = await service.member_card(uow, actor, callback_data.member_id)
    text, markup = render.role_picker(card.member, await service.list_roles(uow, actor))
    await query.message.edit_text(text, reply_markup=markup)


async def on_set_role(
    query: CallbackQuery,
    callback_data: MemberCb,
    uow: UnitOfWork,
    actor: Actor,
    callback_answer: CallbackAnswer,
) -> None:
    cb = callback_data
    member = await service.change_role_by_id(uow, actor, cb.member_id, cb.role_id)
    callback_answer.text = render.done("role", member)
    await _show_card(query, uow, actor, member.id)


async def on_remove_ask(
    query: CallbackQuery, callback_data: MemberCb, uow: UnitOfWork, actor: Actor, catalog: Catalog
) -> None:
    preview = await service.removal_preview(uow, actor, callback_data.member_id, catalog=catalog)
    text, markup = render.remove_confirm(preview)
    await query.message.edit_text(text, reply_markup=markup)


async def on_remove(
    query: CallbackQuery, callback_data: MemberCb, uow: UnitOfWork, actor: Actor, catalog: Catalog
) -> None:
    removal = await service.remove_member_dated(
        uow, actor, callback_data.member_id, catalog=catalog
    )
    await query.message.edit_text(render.removed(removal))


async def _invite_text(bot: Bot, actor: Actor, created: CreatedInvite) -> str:
    link = await create_start_link(bot, created.token)
    expires = when(created.invite.expires_at, actor.timezone)
    text = render.invite_created(link, created.role_code, expires)
    if created.seats is not None and created.seats.monthly_delta > 0:
        text += "\n\n" + tariff_render.seat_note(created.seats)
    return text


async def cmd_invite(
    message: Message,
    command: CommandObject,
    uow: UnitOfWork,
    actor: Actor,
    bot: Bot,
    settings: Settings,
    catalog: Catalog,
) -> None:
    role = (command.args or "").strip() or None
    ttl = timedelta(hours=settings.invite_ttl_hours)
    created = await create_invite(uow, actor, role, ttl=ttl, catalog=catalog)
    if isinstance(created, SeatConfirmation):  # a paid seat would shorten the prepaid period
        text, markup = tariff_render.seat_confirmation(created)
        await message.answer(text, reply_markup=markup)
        return
    await message.answer(await _invite_text(bot, actor, created))


async def on_invite_seat(
    query: CallbackQuery,
    callback_data: InviteSeatCb,
    uow: UnitOfWork,
    actor: Actor,
    bot: Bot,
    settings: Settings,
    catalog: Catalog,
    callback_answer: CallbackAnswer,
) -> None:
    ttl = timedelta(hours=settings.invite_ttl_hours)
    created = await create_invite(
        uow, actor, callback_data.role, ttl=ttl, catalog=catalog, confirmed_cost=callback_data.cost
    )
    if isinstance(created, SeatConfirmation):  # the numbers moved since the question
        text, markup = tariff_render.seat_confirmation(created)
        await query.message.edit_text(text, reply_markup=markup)
        callback_answer.text, callback_answer.show_alert = tariff_render.numbers_changed(), True
        return
    await query.message.edit_text(await _invite_text(bot, actor, created))


async def on_invite_cancel(query: CallbackQuery) -> None:
    await query.message.edit_text(tariff_render.invite_cancelled())


def _split(command: CommandObject) -> tuple[str, str]:
    ref, _, rest = (command.args or "").strip().partition(" ")
    return ref, rest.strip()


Rendered = tuple[str, InlineKeyboardMarkup | None]


async def _block(uow: UnitOfWork, actor: Actor, member_id: int, reason: str) -> Rendered:
    return render.done("block", await service.block_member(uow, actor, member_id, reason)), None


async def _unblock(uow: UnitOfWork, actor: Actor, member_id: int, _: str) -> Rendered:
    return render.done("unblock", await service.unblock_member(uow, actor, member_id)), None


async def _role(uow: UnitOfWork, actor: Actor, member_id: int, role: str) -> Rendered:
    return render.done("role", await service.change_role(uow, actor, member_id, role)), None


async def _remove(uow: UnitOfWork, actor: Actor, member_id: int, _: str) -> Rendered:
    return render.remove_confirm(await service.removal_preview(uow, actor, member_id))


async def _transfer(uow: UnitOfWork, actor: Actor, member_id: int, _: str) -> Rendered:
    return render.transfer_confirm(await service.transfer_target(uow, actor, member_id))


async def on_transfer(
    query: CallbackQuery, callback_data: MemberCb, uow: UnitOfWork, actor: Actor
) -> None:
    member = await service.transfer_ownership(uow, actor, callback_data.member_id)
    await query.message.edit_text(render.done("transfer", member))


# /<command> @member [argument]: whether the argument is required, and what to do.
MEMBER_COMMANDS = {
    "block": (False, _block),
    "unblock": (False, _unblock),
    "role": (True, _role),
    "remove": (False, _remove),
    "transfer": (False, _transfer),
}


async def cmd_member_action(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    needs_argument, action = MEMBER_COMMANDS[command.command]
    ref, rest = _split(command)
    if not ref or (needs_argument and not rest):
        await message.answer(render.usage(command.command))
        return
    target = await service.find_member(uow, actor, ref)
    text, markup = await action(uow, actor, target.id, rest)
    await message.answer(text, reply_markup=markup)


async def cmd_newrole(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    parts = (command.args or "").split()
    if len(parts) < 2:
        await message.answer(render.usage("newrole"))
        return
    role = await create_role(uow, actor, parts[0], parts[1], parts[2:])
    await message.answer(render.role_created(role))


async def cmd_editrole(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    parts = (command.args or "").split()
    if len(parts) < 2:
        await message.answer(render.usage("editrole"))
        return
    await message.answer(render.role_changed(await edit_role(uow, actor, parts[0], parts[1:])))


async def cmd_delrole(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor
) -> None:
    parts = (command.args or "").split()
    if len(parts) != 1:
        await message.answer(render.usage("delrole"))
        return
    await message.answer(render.role_deleted(await delete_role(uow, actor, parts[0])))


async def cmd_roles(message: Message, uow: UnitOfWork, actor: Actor) -> None:
    await message.answer(render.roles_list(await service.list_roles(uow, actor)))


def build_router() -> Router:
    router = FeatureRouter(name="members")
    router.message.register(cmd_users, Command("users"))
    router.message.register(cmd_invite, Command("invite"))
    router.message.register(cmd_member_action, Command(*MEMBER_COMMANDS))
    router.message.register(cmd_roles, Command("roles"))
    router.message.register(cmd_newrole, Command("newrole"))
    router.message.register(cmd_editrole, Command("editrole"))
    router.message.register(cmd_delrole, Command("delrole"))
    router.callback_query.register(on_users_page, UsersPage.filter())
    buttons = router.callback_query
    buttons.register(on_card, MemberCb.filter(F.op == MemberOp.CARD))
    buttons.register(on_block, MemberCb.filter(F.op == MemberOp.BLOCK))
    buttons.register(on_unblock, MemberCb.filter(F.op == MemberOp.UNBLOCK))
    buttons.register(on_roles, MemberCb.filter(F.op == MemberOp.ROLES))
    buttons.register(on_set_role, MemberCb.filter(F.op == MemberOp.SET_ROLE))
    buttons.register(on_remove_ask, MemberCb.filter(F.op == MemberOp.REMOVE))
    buttons.register(on_remove, MemberCb.filter(F.op == MemberOp.REMOVE_YES))
    buttons.register(on_transfer, MemberCb.filter(F.op == MemberOp.TRANSFER_YES))
    buttons.register(on_handover_pick, MemberCb.filter(F.op == MemberOp.HANDOVER))
    buttons.register(on_handover, HandoverCb.filter())
    router.callback_query.register(on_invite_seat, InviteSeatCb.filter())
    router.callback_query.register(on_invite_cancel, InviteCancel.filter())
    return router
