"""/connect, /connectors (with pause, rotate and delete buttons) and /statushook."""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.connectors import render
from bot.connectors.callbacks import ConnectorOp
from bot.routing import FeatureRouter
from core.connectors import status_hooks
from core.connectors.config import ConnectorConfig
from core.connectors.platforms import PLATFORMS
from core.connectors.service import (
    Keys,
    create_connector,
    delete_connector,
    list_connectors,
    rotate_secret,
    set_paused,
)
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.settings import Settings


async def _forget(message: Message) -> None:
    """A message with a key in it does not stay in the chat."""
    with contextlib.suppress(TelegramAPIError):
        await message.delete()


def _keys(platform: str, values: list[str]) -> Keys:
    if platform == "ecwid":
        store_id, token, secret = [*values, None, None, None][:3]
        return Keys(secret=secret, store_id=store_id, store_token=token)
    return Keys(secret=values[0] if values else None)


async def cmd_connect(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, settings: Settings
) -> None:
    words = (command.args or "").split()
    config = ConnectorConfig.from_settings(settings)
    name = words[0].lower() if words else ""
    if name == "rotate" and len(words) >= 3 and words[1].isdigit():
        await _forget(message)
        views = {v.id: v for v in await list_connectors(uow, actor)}
        platform = views[int(words[1])].platform if int(words[1]) in views else ""
        result = await rotate_secret(uow, actor, int(words[1]), config, _keys(platform, words[2:]))
        await message.answer(render.issued(result))
        return
    if name not in PLATFORMS:
        await message.answer(render.usage())
        return
    module = PLATFORMS[name]
    if module.SECRET_FROM_SHOP and len(words) == 1:
        await message.answer(render.asks(name))
        return
    if len(words) > 1:
        await _forget(message)
    result = await create_connector(uow, actor, name, config, _keys(name, words[1:]))
    await message.answer(render.issued(result))


async def _listing(uow: UnitOfWork, actor: Actor):
    views = await list_connectors(uow, actor)
    url = await status_hooks.hook_of(uow, actor.account_id)
    posts = await status_hooks.recent_posts(uow, actor.account_id) if url else []
    return render.connectors(views, url, posts, actor.timezone)


async def cmd_connectors(message: Message, uow: UnitOfWork, actor: Actor) -> None:
    text, markup = await _listing(uow, actor)
    await message.answer(text, reply_markup=markup)


async def on_toggle(
    query: CallbackQuery, callback_data: ConnectorOp, uow: UnitOfWork, actor: Actor
) -> None:
    await set_paused(uow, actor, callback_data.id, callback_data.op == "pause")
    text, markup = await _listing(uow, actor)
    await query.message.edit_text(text, reply_markup=markup)


async def on_rotate(
    query: CallbackQuery,
    callback_data: ConnectorOp,
    uow: UnitOfWork,
    actor: Actor,
    settings: Settings,
) -> None:
    views = {v.id: v for v in await list_connectors(uow, actor)}
    view = views.get(callback_data.id)
    if view is not None and PLATFORMS[view.platform].SECRET_FROM_SHOP:
        await query.message.answer(render.rotate_pasted(view.platform, view.id))
        return
    config = ConnectorConfig.from_settings(settings)
    result = await rotate_secret(uow, actor, callback_data.id, config)
    await query.message.answer(render.issued(result))


async def on_delete(query: CallbackQuery, callback_data: ConnectorOp, actor: Actor) -> None:
    actor.require_writable()
    text, markup = render.confirm_delete(callback_data.id)
    await query.message.answer(text, reply_markup=markup)


async def on_confirm_delete(
    query: CallbackQuery, callback_data: ConnectorOp, uow: UnitOfWork, actor: Actor
) -> None:
    await delete_connector(uow, actor, callback_data.id)
    await query.message.edit_text(render.deleted(callback_data.id))


async def cmd_statushook(
    message: Message, command: CommandObject, uow: UnitOfWork, actor: Actor, settings: Settings
) -> None:
    arg = (command.args or "").strip()
    if arg.lower() in {"off", "выкл"}:
        await message.answer(render.hook_removed(await status_hooks.remove_hook(uow, actor)))
    elif arg:
        config = ConnectorConfig.from_settings(settings)
        await message.answer(render.hook_set(await status_hooks.set_hook(uow, actor, arg, config)))
    else:
        await message.answer(render.hook_usage())


def build_router() -> Router:
    router = FeatureRouter(name="connectors")
    router.message.register(cmd_connect, Command("connect"))
    router.message.register(cmd_connectors, Command("connectors"))
    router.message.register(cmd_statushook, Command("statushook"))
    router.callback_query.register(on_toggle, ConnectorOp.filter(F.op.in_({"pause", "resume"})))
    router.callback_query.register(on_rotate, ConnectorOp.filter(F.op == "rotate"))
    router.callback_query.register(on_delete, ConnectorOp.filter(F.op == "delete"))
    router.callback_query.register(on_confirm_delete, ConnectorOp.filter(F.op == "confirm_delete"))
    return router
