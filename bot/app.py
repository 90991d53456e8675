"""The one composition function: settings → engine → bot → dispatcher → scheduler."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:  # redis is imported only when REDIS_URL is set
    from redis.asyncio import Redis

from bot import errors, fallback
from bot.alerts import router as alerts_router
from bot.audit import router as audit_router
from bot.balance import router as balance_router
from bot.commands import set_bot_commands
from bot.filters import IsMember, PrivateChat
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
from bot.journal import router as journal_router
from bot.lifecycle import InFlight
from bot.members import router as members_router
from bot.metrics import Metrics, MetricsMiddleware
from bot.middlewares import AccessMiddleware, CallbackAnswers, UnitOfWorkMiddleware
from bot.notifications import router as notifications_router
from bot.notifications.sender import OutboxSender
from bot.orders import announce_router, neworder
from bot.orders import router as orders_router
from bot.reports import router as reports_router
from bot.reports.sent_charts import SentCharts
from bot.requests import ResilientRequests
from bot.start import router as start_router
from bot.tariff import router as tariff_router
from bot.tariff.middleware import ReadOnlyNoticeMiddleware
from bot.tasks import dialog as task_dialog
from bot.tasks import router as tasks_router
from bot.web import WebhookHandler, WebServer
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
class SharedState:
    """What several processes of one bot must share: dialogs, seen updates, flood counters."""

    storage: BaseStorage
    isolation: BaseEventIsolation
    update_memory: UpdateMemory
    flood_memory: FloodMemory
    redis: Redis | None = None


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
    catalog: Catalog
    shared: SharedState
    sender: OutboxSender
    metrics: Metrics
    in_flight: InFlight
    charts: SentCharts  # file ids of report charts Telegram already has
    webhook: WebhookHandler | None = None
    jobs: list[Job] = field(default_factory=list)
    background: list[asyncio.Task] = field(default_factory=list)
    running_jobs: set[asyncio.Task] = field(default_factory=set)

    @property
    def redis(self) -> Redis | None:
        return self.shared.redis

    @property
    def update_memory(self) -> UpdateMemory:
        return self.shared.update_memory

    @property
    def flood_memory(self) -> FloodMemory:
        return self.shared.flood_memory


def build_routers() -> list[Router]:
    """Feature routers in order; member-only ones are scoped once, on their parent."""
    for_members = Router(name="members-only")
    for_members.message.filter(IsMember(), PrivateChat())
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
        alerts_router.build_router(),
        reports_router.build_router(),
    )
    return [
        errors.build_router(),
        notifications_router.build_router(),
        start_router.build_router(),
        for_members,
        announce_router.build_group_router(),
        fallback.build_router(),
    ]


def build_shared_state(settings: Settings) -> SharedState:
    """In this process by default, or in Redis (REDIS_URL) for a fleet of processes."""
    if settings.redis_url is None:
        return SharedState(
            MemoryStorage(),
            SimpleEventIsolation(),
            MemoryUpdateMemory(),
            MemoryFloodMemory(per_second=settings.flood_per_second),
        )
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    return SharedState(
        # Dialog state outlives a process restart; two updates of one member never interleave.
        RedisStorage(redis, state_ttl=timedelta(days=7), data_ttl=timedelta(days=7)),
        RedisEventIsolation(redis),
        RedisUpdateMemory(redis),
        RedisFloodMemory(redis, per_second=settings.flood_per_second),
        redis,
    )


def schedule_jobs(app: App) -> None:
    """Every job runs once right away (catching up after downtime), then at its interval."""

    async def run(job: Job) -> None:
        task = asyncio.current_task()
        app.running_jobs.add(task)
        try:
            done = await job.run(app.uows)
        except Exception:
            log.exception("job %s failed", job.name)
            return
        finally:
            app.running_jobs.discard(task)
        if done:
            log.info("job %s processed %s", job.name, done)
            app.metrics.job_items.labels(job.name).inc(done)
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
    catalog = load_catalog(settings.tariff_catalog)
    shared = build_shared_state(settings)
    charts = SentCharts()
    dp = Dispatcher(
        storage=shared.storage,
        events_isolation=shared.isolation,
        settings=settings,
        clock=clock,
        i18n=i18n,
        uows=uows,
        catalog=catalog,
        charts=charts,
    )
    metrics = Metrics()
    in_flight = InFlight()
    # Outer middlewares, outermost first: every update passes each of them in this order.
    for middleware in (
        MetricsMiddleware(metrics),
        in_flight,
        DuplicateUpdateMiddleware(shared.update_memory),
        FloodMiddleware(shared.flood_memory, i18n),
        UnitOfWorkMiddleware(uows),
        AccessMiddleware(i18n),
        LocaleMiddleware(i18n),
        ReadOnlyNoticeMiddleware(),
    ):
        dp.update.outer_middleware(middleware)
    dp.callback_query.middleware(CallbackAnswers())  # every callback query answered once
    dp.include_routers(*build_routers())
    limits = Limits(
        per_second=settings.send_per_second,
        per_chat_per_second=settings.send_per_chat_per_second,
        group_per_minute=settings.send_group_per_minute,
    )
    app = App(
        settings=settings,
        engine=engine,
        uows=uows,
        bot=bot,
        dp=dp,
        scheduler=AsyncIOScheduler(timezone="UTC"),
        i18n=i18n,
        clock=clock,
        catalog=catalog,
        shared=shared,
        sender=OutboxSender(
            bot,
            uows,
            i18n,
            RateLimiter(limits),
            metrics=metrics,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
        ),
        metrics=metrics,
        in_flight=in_flight,
        charts=charts,
    )
    if settings.webhook_url:
        app.webhook = WebhookHandler(
            dp, bot, secret_token=settings.webhook_secret.get_secret_value()
        )
    app.jobs = all_jobs(settings, catalog)
    web = WebServer(app)

    async def on_startup() -> None:
        await start(app, web)

    async def on_shutdown() -> None:
        await stop(app, web)

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return app


async def start(app: App, web: WebServer) -> None:
    await set_bot_commands(app.bot, app.i18n)
    schedule_jobs(app)
    app.scheduler.start()
    app.background.append(asyncio.create_task(app.sender.run(), name="outbox-sender"))
    await web.start()


async def stop(app: App, web: WebServer) -> None:
    """Stop taking work, finish what is in flight (bounded), then close everything."""
    await web.stop()
    if app.webhook is not None:
        await app.webhook.drain()
    if not await app.in_flight.wait_idle(app.settings.shutdown_grace_seconds):
        log.warning("stopping with %s updates still in flight", app.in_flight.count)
    if app.scheduler.running:
        # APScheduler 3 cancels running asyncio jobs on shutdown: let the current ones finish.
        app.scheduler.pause()
        running = [task for task in app.running_jobs if not task.done()]
        if running:
            await asyncio.wait(running, timeout=app.settings.shutdown_grace_seconds)
        app.scheduler.shutdown(wait=False)
    log.info("scheduler stopped; stopping the sender")
    app.sender.stop()
    await asyncio.gather(*app.background, return_exceptions=True)
    log.info("sender stopped; closing storage and database")
    await app.dp.storage.close()
    await app.engine.dispose()
