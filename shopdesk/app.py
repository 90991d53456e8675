"""The one composition function: settings → engine → bot → dispatcher → scheduler → web server."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands import set_bot_commands
from bot.guards import FloodMemory, UpdateMemory
from bot.i18n import build_i18n
from bot.lifecycle import InFlight
from bot.notifications.sender import OutboxSender
from bot.registration import Step, TelegramRegistration, patient_me
from bot.reports.sent_charts import SentCharts
from bot.telegram import (
    SharedState,
    build_bot,
    build_dispatcher,
    build_shared_state,
    error_explainer,
)
from bot.webapp import init_data_checker, webapp_explainer, webapp_texts
from bot.webhook import update_feeder
from core.clock import Clock, SystemClock
from core.connectors import deliveries
from core.connectors.config import ConnectorConfig
from core.connectors.kicker import Kicker
from core.db.engine import create_engine, session_factory
from core.db.uow import UnitOfWorkFactory
from core.inbox.worker import InboxWorker
from core.jobs import Job, all_jobs
from core.limits import Limiter, MemoryStorage, redis_storage
from core.logs import log_scope
from core.members import menu as members_menu
from core.metrics import Metrics
from core.notifications.limits import FleetLimits, Limits, RateLimiter
from core.settings import Settings
from core.tariff.catalog import Catalog, load_catalog
from web.app.deps import TelegramLogin, WebAppDeps
from web.deps import HealthCheck, IntakeLimits, WebDeps
from web.server import WebServer
from web.webhook import WebhookEndpoint

if TYPE_CHECKING:  # redis is imported only when REDIS_URL is set
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


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
    web: WebDeps
    registration: TelegramRegistration
    connectors: ConnectorConfig
    hooks: Kicker  # applies stored shop deliveries right after they are stored
    jobs: list[Job] = field(default_factory=list)
    background: list[asyncio.Task] = field(default_factory=list)
    running_jobs: set[asyncio.Task] = field(default_factory=set)

    @property
    def webhook(self) -> WebhookEndpoint | None:
        return self.web.webhook

    @property
    def inbox(self) -> InboxWorker | None:
        return self.web.webhook.inbox if self.web.webhook is not None else None

    @property
    def redis(self) -> Redis | None:
        return self.shared.redis

    @property
    def update_memory(self) -> UpdateMemory:
        return self.shared.update_memory

    @property
    def flood_memory(self) -> FloodMemory:
        return self.shared.flood_memory


def schedule_jobs(app: App) -> None:
    """Every job runs once right away (catching up after downtime), then at its interval.

    Each APScheduler job carries the job's own name (its log lines say "renewals", not the
    wrapper's name); every run is timed and counted in the metrics by `run_job`."""
    for job in app.jobs:
        app.scheduler.add_job(
            run_job,
            "interval",
            args=[app, job],
            id=job.name,
            name=job.name,
            seconds=job.every.total_seconds(),
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )


async def run_job(app: App, job: Job) -> None:
    """One scheduled run: failures are logged (the next run retries), never raised."""
    task = asyncio.current_task()
    app.running_jobs.add(task)
    started = time.perf_counter()
    ok = False
    with log_scope(job=job.name):
        try:
            done = await job.run(app.uows)
            ok = True
        except Exception:
            log.exception("job %s failed", job.name)
            return
        finally:
            app.running_jobs.discard(task)
            app.metrics.job_ran(job.name, time.perf_counter() - started, ok=ok)
        if done:
            log.info("job %s processed %s", job.name, done)
            app.metrics.job_items.labels(job.name).inc(done)
            app.sender.wake()


def health_checks(
    engine: AsyncEngine, redis: Redis | None, telegram: HealthCheck | None = None
) -> dict[str, HealthCheck | None]:
    """The readiness checks: the database always; Redis when configured (None: "off");
    the registration with Telegram (see `telegram_registration`)."""

    async def database() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return {
        "database": database,
        "redis": redis.ping if redis is not None else None,
        "telegram": telegram,
    }


def telegram_registration(
    settings: Settings,
    bot: Bot,
    dp: Dispatcher,
    i18n: I18n,
    uows: UnitOfWorkFactory | None = None,
    wake: Callable[[], None] = lambda: None,
) -> TelegramRegistration:
    """What start-up registers with Telegram, retried in the background until it succeeds:
    the command menu; in webhook mode then the webhook (no update arrives before that); with
    the board on, every active member's menu button (outbox rows, once per board address:
    joins and unblocks set it later, blocks and removals reset it)."""
    steps: list[Step] = [("setMyCommands", lambda: set_bot_commands(bot, i18n))]
    if settings.webhook_url:

        def set_webhook() -> Awaitable[bool]:
            return bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=dp.resolve_used_update_types(),
                max_connections=min(settings.max_concurrent_updates, 100),
            )

        steps.append(("setWebhook", set_webhook))
    if settings.webapp_url and uows is not None:
        tag = hashlib.sha256(settings.webapp_url.encode()).hexdigest()[:16]

        async def board_menus() -> bool:
            async with uows() as uow:
                added = await members_menu.board_menus(uow, tag)
            if added:
                wake()
            return True

        steps.append(("setChatMenuButton", board_menus))
    return TelegramRegistration(
        steps,
        retry_max_seconds=settings.telegram_retry_max_seconds,
        blocks_readiness=bool(settings.webhook_url),
    )


def build_webapp_deps(settings: Settings, i18n: I18n) -> WebAppDeps | None:
    """The Mini App's needs (None without WEBAPP_URL): Telegram's signature is checked by
    aiogram's helper on the bot's token; texts and errors come from the bot's catalogues."""
    if not settings.webapp_url:
        return None
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    parse = init_data_checker(token) if token else None

    def check(init_data: str) -> TelegramLogin:
        if parse is None:
            raise ValueError("no BOT_TOKEN: nothing to check the signature with")
        telegram_id, auth_date = parse(init_data)
        return TelegramLogin(telegram_id, auth_date)

    return WebAppDeps(
        check_init_data=check,
        texts=webapp_texts(i18n),
        explain=webapp_explainer(i18n),
        max_age=timedelta(hours=settings.webapp_auth_max_age_hours),
        dev_login=settings.webapp_dev_login,
        poll_seconds=settings.webapp_poll_seconds,
        default_locale=settings.default_locale,
    )


def build_web_deps(
    settings: Settings,
    *,
    engine: AsyncEngine,
    uows: UnitOfWorkFactory,
    bot: Bot,
    dp: Dispatcher,
    i18n: I18n,
    metrics: Metrics,
    redis: Redis | None,
    sender: OutboxSender,
    limiter: Limiter,
    telegram: HealthCheck | None = None,
    connectors: ConnectorConfig | None = None,
    hooks: Kicker | None = None,
) -> WebDeps:
    """What the HTTP adapter gets: a few objects and callables, not the App."""
    webhook = None
    if settings.webhook_url:
        inbox = InboxWorker(
            uows,
            update_feeder(dp, bot),
            bound=settings.max_concurrent_updates,
            lease=timedelta(seconds=settings.inbox_lease_seconds),
        )
        webhook = WebhookEndpoint(
            settings.webhook_path,
            settings.webhook_secret.get_secret_value(),
            inbox,
            # Dialog state, event locks and flood counters live in Redis: without it an
            # update cannot be handled, so it is not taken (503: Telegram retries later).
            gates={"redis": redis.ping} if redis is not None else None,
            metrics=metrics,
        )
    return WebDeps(
        uows=uows,
        metrics=metrics,
        health=health_checks(engine, redis, telegram),
        explain=error_explainer(i18n),
        wake=sender.wake,
        host=settings.http_host,
        port=settings.http_port,
        intake_limits=IntakeLimits(
            limiter,
            per_minute=settings.intake_per_minute,
            failures_per_minute=settings.intake_failures_per_minute,
            trusted_proxies=settings.trusted_proxies,
        ),
        webhook=webhook,
        connectors=connectors,
        hooks_wake=hooks.wake if hooks is not None else (lambda: None),
        webapp=build_webapp_deps(settings, i18n),
    )


def build_limiters(settings: Settings) -> tuple[Limiter, Limiter]:
    """The Telegram sender's limiter and the intake API's: in Redis (REDIS_URL), shared by the
    fleet, else in this process's memory (see core/limits.py). Redis unreachable, the sender
    waits (Telegram's limits are hard); the intake API counts in this process meanwhile."""
    if settings.redis_url is None:
        memory = MemoryStorage()
        return Limiter(memory), Limiter(memory)
    prefix = settings.rate_limits_prefix or f"{settings.redis_prefix}:limits"
    storage = redis_storage(settings.redis_url, prefix)
    return Limiter(storage), Limiter(storage, fallback=MemoryStorage())


def build_app(
    settings: Settings,
    *,
    session: BaseSession | None = None,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
) -> App:
    clock = clock or SystemClock()
    engine = engine or create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        postgres=settings.postgres_options("bot"),
    )
    uows = UnitOfWorkFactory(session_factory(engine), clock, chat_menus=bool(settings.webapp_url))
    i18n = build_i18n(settings.default_locale)
    bot = build_bot(settings, session)
    catalog = load_catalog(settings.tariff_catalog)
    shared = build_shared_state(settings)
    charts = SentCharts()
    metrics = Metrics()
    in_flight = InFlight()
    limits = Limits(
        per_second=settings.send_per_second,
        per_chat_per_second=settings.send_per_chat_per_second,
        group_per_minute=settings.send_group_per_minute,
    )
    send_limits, intake_limits = build_limiters(settings)
    sender = OutboxSender(
        bot,
        uows,
        i18n,
        # One process alone: its own limiter holds the bot's limits exactly; a fleet shares them.
        RateLimiter(
            limits, fleet=FleetLimits(send_limits, bot.id, limits) if send_limits.shared else None
        ),
        metrics=metrics,
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        board_url=settings.webapp_url,
    )
    dp = build_dispatcher(
        settings,
        clock=clock,
        i18n=i18n,
        uows=uows,
        catalog=catalog,
        charts=charts,
        shared=shared,
        metrics=metrics,
        in_flight=in_flight,
        sender=sender,
    )
    registration = telegram_registration(settings, bot, dp, i18n, uows, sender.wake)
    connectors = ConnectorConfig.from_settings(settings)

    async def apply_deliveries() -> int:
        done = await deliveries.drain(uows, connectors)
        if done:
            sender.wake()  # the orders' announcements
        return done

    hooks = Kicker("connector-deliveries", apply_deliveries)
    if not settings.webhook_url:  # aiogram's polling asks getMe first: wait for it, not die
        bot.me = patient_me(bot, registration.delays)  # type: ignore[method-assign]
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
        sender=sender,
        metrics=metrics,
        in_flight=in_flight,
        charts=charts,
        web=build_web_deps(
            settings,
            engine=engine,
            uows=uows,
            bot=bot,
            dp=dp,
            i18n=i18n,
            metrics=metrics,
            redis=shared.redis,
            sender=sender,
            limiter=intake_limits,
            telegram=registration.check,
            connectors=connectors,
            hooks=hooks,
        ),
        registration=registration,
        connectors=connectors,
        hooks=hooks,
    )
    app.jobs = all_jobs(settings, catalog)
    web = WebServer(app.web)

    async def on_startup() -> None:
        await start(app, web)

    async def on_shutdown() -> None:
        await stop(app, web)

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return app


async def start(app: App, web: WebServer) -> None:
    """Nothing here waits for Telegram: the menu and webhook are registered in the background."""
    app.background.append(asyncio.create_task(app.registration.run(), name="telegram-registration"))
    schedule_jobs(app)
    app.scheduler.start()
    app.background.append(asyncio.create_task(app.sender.run(), name="outbox-sender"))
    if app.inbox is not None:  # takes over what a stopped or dead process left
        app.background.append(asyncio.create_task(app.inbox.run(), name="inbox"))
    await web.start()


async def stop(app: App, web: WebServer) -> None:
    """Stop taking work, finish what is in flight (bounded), then close everything."""
    await web.stop()
    if app.inbox is not None:  # what is not handled within the grace goes back to the inbox
        await app.inbox.stop(app.settings.shutdown_grace_seconds)
    try:  # deliveries being applied finish (the rest stay stored for the next start)
        await asyncio.wait_for(app.hooks.idle(), app.settings.shutdown_grace_seconds)
    except TimeoutError:
        log.warning("stopping while shop deliveries are still being applied")
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
    for task in app.background:
        if task.get_name() == "telegram-registration":
            task.cancel()  # still retrying: Telegram never answered; the next start retries
    app.sender.stop()
    await asyncio.gather(*app.background, return_exceptions=True)
    log.info("sender stopped; closing storage and database")
    await app.web.intake_limits.limiter.close()  # the sender's shares its Redis storage
    await app.dp.storage.close()
    await app.engine.dispose()
