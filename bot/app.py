"""The one composition function: settings → engine → bot → dispatcher → scheduler."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import errors, fallback
from bot.audit import router as audit_router
from bot.balance import router as balance_router
from bot.commands import set_bot_commands
from bot.filters import IsMember
from bot.guards import (
    DuplicateUpdateMiddleware,
    FloodMemory,
    FloodMiddleware,
    MemoryFloodMemory,
    MemoryUpdateMemory,
    RedisFloodMemory,
    RedisUpdateMemory,
    UpdateMemory,
)
from bot.help import router as help_router
from bot.i18n import LocaleMiddleware, build_i18n
from bot.intake import router as intake_router
from bot.intake.server import IntakeServer
from bot.journal import router as journal_router
from bot.lifecycle import InFlight
from bot.members import router as members_router
from bot.middlewares import AccessMiddleware, UnitOfWorkMiddleware
from bot.notifications import router as notifications_router
from bot.notifications.sender import OutboxSender
from bot.orders import announce_router, neworder
from bot.orders import router as orders_router
from bot.requests import ResilientRequests
from bot.start import router as start_router
from bot.tariff import router as tariff_router
from bot.tariff.middleware import ReadOnlyNoticeMiddleware
from bot.tasks import dialog as task_dialog
from bot.tasks import router as tasks_router
from core.clock import Clock, SystemClock
from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from core.jobs import Job, all_jobs
from core.notifications.limits import Limits, RateLimiter
from core.settings import Settings
from core.tariff.catalog import Catalog, load_catalog

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
    sender: OutboxSender
    update_memory: UpdateMemory
    flood_memory: FloodMemory
    catalog: Catalog
    jobs: list[Job] = field(default_factory=list)
    background: list[asyncio.Task] = field(default_factory=list)


def build_routers() -> list[Router]:
    """Feature routers in order; member-only ones are scoped once, on their parent."""
    for_members = Router(name="members-only")
    for_members.message.filter(IsMember(), F.chat.type == "private")
    for_members.callback_query.filter(IsMember())
    for_members.include_routers(
        help_router.build_router(),
        members_router.build_router(),
        audit_router.build_router(),
        tariff_router.build_router(),
        journal_router.build_router(),
        balance_router.build_router(),
        orders_router.build_router(),
        announce_router.build_router(),
        task_dialog.build_router(),  # before neworder: /cancel inside a task dialog
        tasks_router.build_router(),
        neworder.build_router(),
        intake_router.build_router(),
    )
    return [
        errors.build_router(),
        notifications_router.build_router(),
        start_router.build_router(),
        for_members,
        announce_router.build_group_router(),
        fallback.build_router(),
    ]


def build_shared_state(settings: Settings):
    """FSM dialogs, update and flood memory: in this process, or in Redis for a fleet."""
    if settings.redis_url is None:
        return (
            MemoryStorage(),
            SimpleEventIsolation(),
            MemoryUpdateMemory(),
            MemoryFloodMemory(per_second=settings.flood_per_second),
        )
    redis = Redis.from_url(settings.redis_url)
    return (
        # Dialog state outlives a process restart; two updates of one member never interleave.
        RedisStorage(redis, state_ttl=timedelta(days=7), data_ttl=timedelta(days=7)),
        RedisEventIsolation(redis),
        RedisUpdateMemory(redis),
        RedisFloodMemory(redis, per_second=settings.flood_per_second),
    )


def schedule_jobs(app: App) -> None:
    """Every job runs once right away (catching up after downtime), then at its interval."""

    async def run(job: Job) -> None:
        try:
            done = await job.run(app.uows)
        except Exception:
            log.exception("job %s failed", job.name)
            return
        if done:
            log.info("job %s processed %s", job.name, done)
            app.sender.wake()

    for job in app.jobs:
        app.scheduler.add_job(
            run,
            "interval",
            args=[job],
            id=job.name,
            seconds=job.every.total_seconds(),
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )


def build_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    token = settings.bot_token.get_secret_value() if settings.bot_token else OFFLINE_TOKEN
    session.middleware(ResilientRequests())
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
    catalog = load_catalog(settings.tariff_catalog)
    storage, isolation, update_memory, flood_memory = build_shared_state(settings)
    dp = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        settings=settings,
        clock=clock,
        i18n=i18n,
        uows=uows,
        catalog=catalog,
    )
    in_flight = InFlight()
    dp.update.outer_middleware(in_flight)
    dp.update.outer_middleware(DuplicateUpdateMiddleware(update_memory))
    dp.update.outer_middleware(FloodMiddleware(flood_memory, i18n))
    dp.update.outer_middleware(UnitOfWorkMiddleware(uows))
    dp.update.outer_middleware(AccessMiddleware(i18n))
    dp.update.outer_middleware(LocaleMiddleware(i18n))
    dp.update.outer_middleware(ReadOnlyNoticeMiddleware())
    dp.include_routers(*build_routers())
    limiter = RateLimiter(
        Limits(
            per_second=settings.send_per_second,
            per_chat_per_second=settings.send_per_chat_per_second,
            group_per_minute=settings.send_group_per_minute,
        )
    )
    sender = OutboxSender(bot, uows, i18n, limiter)
    app = App(
        settings,
        engine,
        uows,
        bot,
        dp,
        scheduler,
        i18n,
        clock,
        sender,
        update_memory,
        flood_memory,
        catalog,
    )
    app.jobs = all_jobs(settings)
    intake = IntakeServer(app)

    async def on_startup(bot: Bot) -> None:
        await set_bot_commands(bot, i18n)
        schedule_jobs(app)
        scheduler.start()
        app.background.append(asyncio.create_task(sender.run(), name="outbox-sender"))
        await intake.start()

    async def on_shutdown() -> None:
        await intake.stop()
        # Polling has stopped taking updates; let the ones in flight finish first.
        if not await in_flight.wait_idle(settings.shutdown_grace_seconds):
            log.warning("stopping with %s updates still in flight", in_flight.count)
        if scheduler.running:
            scheduler.shutdown(wait=True)
        sender.stop()
        await asyncio.gather(*app.background, return_exceptions=True)
        await dp.storage.close()
        await engine.dispose()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return app
