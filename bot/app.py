"""The one composition function: settings → engine → bot → dispatcher → scheduler."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import errors, fallback
from bot.audit import router as audit_router
from bot.commands import set_bot_commands
from bot.filters import IsMember
from bot.help import router as help_router
from bot.i18n import LocaleMiddleware, build_i18n
from bot.intake import router as intake_router
from bot.intake.server import IntakeServer
from bot.members import router as members_router
from bot.middlewares import AccessMiddleware, UnitOfWorkMiddleware
from bot.orders import announce_router, neworder
from bot.orders import router as orders_router
from bot.start import router as start_router
from core.clock import Clock, SystemClock
from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from core.settings import Settings

log = logging.getLogger(__name__)
# A token-shaped placeholder for the console and tests, where nothing reaches Telegram.
OFFLINE_TOKEN = "1:offline"


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    uows: UnitOfWorkFactory
    bot: Bot
    dp: Dispatcher
    scheduler: AsyncIOScheduler
    i18n: I18n
    clock: Clock


def build_routers() -> list[Router]:
    """Feature routers in order; member-only ones are scoped once, on their parent."""
    for_members = Router(name="members-only")
    for_members.message.filter(IsMember(), F.chat.type == "private")
    for_members.callback_query.filter(IsMember())
    for_members.include_routers(
        help_router.build_router(),
        members_router.build_router(),
        audit_router.build_router(),
        orders_router.build_router(),
        announce_router.build_router(),
        neworder.build_router(),
        intake_router.build_router(),
    )
    return [
        errors.build_router(),
        start_router.build_router(),
        for_members,
        announce_router.build_group_router(),
        fallback.build_router(),
    ]


def build_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    token = settings.bot_token.get_secret_value() if settings.bot_token else OFFLINE_TOKEN
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_app(
    settings: Settings,
    *,
    session: BaseSession | None = None,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
) -> App:
    clock = clock or SystemClock()
    engine = engine or create_engine(settings.database_url, pool_size=settings.database_pool_size)
    uows = UnitOfWorkFactory(session_factory(engine), clock)
    i18n = build_i18n(settings.default_locale)
    bot = build_bot(settings, session)
    scheduler = AsyncIOScheduler(timezone="UTC")
    dp = Dispatcher(storage=MemoryStorage(), settings=settings, clock=clock, i18n=i18n, uows=uows)
    dp.update.outer_middleware(UnitOfWorkMiddleware(uows))
    dp.update.outer_middleware(AccessMiddleware(i18n))
    dp.update.outer_middleware(LocaleMiddleware(i18n))
    dp.include_routers(*build_routers())
    app = App(settings, engine, uows, bot, dp, scheduler, i18n, clock)
    intake = IntakeServer(app)

    async def on_startup(bot: Bot) -> None:
        await set_bot_commands(bot, i18n)
        scheduler.start()
        await intake.start()

    async def on_shutdown() -> None:
        await intake.stop()
        if scheduler.running:
            scheduler.shutdown(wait=True)
        await engine.dispose()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return app
