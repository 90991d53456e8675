"""/users, /invite, /block, /unblock, /role, /remove, /roles, /transfer and the member card."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link

from bot.format import when
from bot.members import render
from bot.members.callbacks import InviteCancel, InviteSeatCb, MemberCb, MemberOp, UsersPage
from bot.tariff import render as tariff_render
from core.db.uow import UnitOfWork
from core.members import service
from core.members.actor import Actor
from core.members.invites import CreatedInvite, SeatConfirmation, create_invite
from core.members.roles import create_role
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
    await query.answer()


async def _show_card(
    query: CallbackQuery, uow: UnitOfWork, actor: Actor, member_id: int, toast: str | None = None
) -> None:
    card = await service.member_card(uow, actor, member_id)
    text, markup = render.member_card(card, actor.timezone)
    await query.message.edit_text(text, reply_markup=markup)
    await query.answer(toast)


async def on_member(
    query: CallbackQuery, callback_data: MemberCb, uow: UnitOfWork, actor: Actor, catalog: Catalog
) -> None:
    member_id, op = callback_data.member_id, callback_data.op
    if op == MemberOp.CARD:
        await _show_card(query, uow, actor, member_id)
    elif op == MemberOp.BLOCK:
        member = await service.block_member(uow, actor, member_id)
        await _show_card(query, uow, actor, member_id, render.done("block", member))
    elif op == MemberOp.UNBLOCK:
        member = await service.unblock_member(uow, actor, member_id)
        await _show_card(query, uow, actor, member_id, render.done("unblock", member))
    elif op == MemberOp.ROLES:
        card = await service.member_card(uow, actor, member_id)
        text, markup = render.role_picker(card.member, await service.list_roles(uow, actor))
        await query.message.edit_text(text, reply_markup=markup)
        await query.answer()
    elif op == MemberOp.SET_ROLE:
        member = await service.change_role_by_id(uow, actor, member_id, callback_data.role_id)
        await _show_card(query, uow, actor, member_id, render.done("role", member))
    elif op == MemberOp.REMOVE:
        card = await service.member_card(uow, actor, member_id)
        text, markup = render.remove_confirm(card.member)
        await query.message.edit_text(text, reply_markup=markup)
        await query.answer()
    elif op == MemberOp.REMOVE_YES:
        member = await service.remove_member(uow, actor, member_id, catalog=catalog)
        await query.message.edit_text(render.done("remove", member))
        await query.answer()


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
) -> None:
    ttl = timedelta(hours=settings.invite_ttl_hours)
    created = await create_invite(
        uow, actor, callback_data.role, ttl=ttl, catalog=catalog, confirmed_cost=callback_data.cost
    )
    if isinstance(created, SeatConfirmation):  # the numbers moved since the question
        text, markup = tariff_render.seat_confirmation(created)
        await query.message.edit_text(text, reply_markup=markup)
        await query.answer(tariff_render.numbers_changed(), show_alert=True)
        return
    await query.message.edit_text(await _invite_text(bot, actor, created))
    await query.answer()


async def on_invite_cancel(query: CallbackQuery) -> None:
    await query.message.edit_text(tariff_render.invite_cancelled())
    await query.answer()


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
    return render.remove_confirm(await service.get_member(uow, actor, member_id))


async def _transfer(uow: UnitOfWork, actor: Actor, member_id: int, _: str) -> Rendered:
    return render.done("transfer", await service.transfer_ownership(uow, actor, member_id)), None


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


async def cmd_roles(message: Message, uow: UnitOfWork, actor: Actor) -> None:
    await message.answer(render.roles_list(await service.list_roles(uow, actor)))


def build_router() -> Router:
    router = Router(name="members")
    router.message.register(cmd_users, Command("users"))
    router.message.register(cmd_invite, Command("invite"))
    router.message.register(cmd_member_action, Command(*MEMBER_COMMANDS))
    router.message.register(cmd_roles, Command("roles"))
    router.message.register(cmd_newrole, Command("newrole"))
    router.callback_query.register(on_users_page, UsersPage.filter())
    router.callback_query.register(on_member, MemberCb.filter())
    router.callback_query.register(on_invite_seat, InviteSeatCb.filter())
    router.callback_query.register(on_invite_cancel, InviteCancel.filter())
    return router
