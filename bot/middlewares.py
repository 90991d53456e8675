"""Outer middlewares on every update: one unit of work, then the membership and block check;
and the inner one that answers every callback query once."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Update
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram.utils.i18n import I18n

from bot.members.render import blocked_notice
from core.db.uow import UnitOfWorkFactory
from core.logs import bind
from core.members.access import check_access


class UnitOfWorkMiddleware(BaseMiddleware):
    def __init__(self, uows: UnitOfWorkFactory) -> None:
        self.uows = uows

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        async with self.uows() as uow:
            data["uow"] = uow
            return await handler(event, data)


class AccessMiddleware(BaseMiddleware):
    """Resolves the member behind every update; a blocked member reaches no handler."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    async def __call__(self, handler, event: Update, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is None or user.is_bot:
            data["actor"] = None
            return await handler(event, data)
        access = await check_access(
            data["uow"], user.id, username=user.username, full_name=user.full_name
        )
        data["access"] = access
        data["actor"] = access.actor
        if access.actor is not None:
            bind(account_id=access.actor.account_id)  # the update's log lines name the account
        if access.blocked:
            await self._refuse(event, access.notify_blocked, access.locale)
            return None
        return await handler(event, data)

    async def _refuse(self, update: Update, notify: bool, locale: str | None) -> None:
        with self.i18n.context(), self.i18n.use_locale(locale or self.i18n.default_locale):
            text = blocked_notice()
            if update.callback_query is not None:
                await update.callback_query.answer(text if notify else None, show_alert=notify)
            elif update.inline_query is not None:
                await update.inline_query.answer([], cache_time=60, is_personal=True)
            elif notify and update.message is not None:
                await update.message.answer(text)


class CallbackAnswers(CallbackAnswerMiddleware):
    """aiogram's CallbackAnswerMiddleware: each callback query is answered once, after its
    handler, with what the handler set on `callback_answer` (text, show_alert) — handlers never
    call query.answer(). A handler that raises leaves the answer to the error handler, so that
    its refusal is the alert the member sees (Telegram shows only the first answer)."""

    async def __call__(self, handler, event, data: dict[str, Any]) -> Any:
        async def answered_unless_it_fails(event, data: dict[str, Any]) -> Any:
            try:
                return await handler(event, data)
            except Exception:
                data["callback_answer"].disable()
                raise

        return await super().__call__(answered_unless_it_fails, event, data)
