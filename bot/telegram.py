"""The Telegram side, built for the composition root (shopdesk/app.py): bot, dispatcher, state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.types import Update
from aiogram.utils.i18n import I18n

if TYPE_CHECKING:  # redis is imported only when REDIS_URL is set
    from redis.asyncio import Redis

from bot import errors, fallback
from bot.alerts import router as alerts_router
from bot.audit import router as audit_router
from bot.balance import dialog as balance_dialog
from bot.balance import router as balance_router
from bot.connectors import router as connectors_router
from bot.digest import router as digest_router
from bot.filters import IsMember, PrivateChat
from bot.format import DEFAULT_LOCALE, numbers_as
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
from bot.i18n import LocaleMiddleware
from bot.intake import router as intake_router
from bot.invoices import router as invoices_router
from bot.journal import router as journal_router
from bot.lifecycle import InFlight
from bot.members import router as members_router
from bot.metrics import MetricsMiddleware
from bot.middlewares import AccessMiddleware, CallbackAnswers, UnitOfWorkMiddleware
from bot.notifications import router as notifications_router
from bot.notifications.sender import OutboxSender
from bot.notifications.wake import WakeSenderMiddleware
from bot.orders import announce_router, neworder
from bot.orders import router as orders_router
from bot.reports import router as reports_router
from bot.reports.sent_charts import SentCharts
from bot.requests import ResilientRequests
from bot.routing import FeatureRouter, seal
from bot.settings import router as settings_router
from bot.shifts import router as shifts_router
from bot.start import router as start_router
from bot.tariff import dialog as tariff_dialog
from bot.tariff import router as tariff_router
from bot.tariff.middleware import ReadOnlyNoticeMiddleware
from bot.tasks import dialog as task_dialog
from bot.tasks import router as tasks_router
from core.clock import Clock
from core.db.uow import UnitOfWorkFactory
from core.errors import DomainError
from core.invoices.operator import load_operator
from core.logs import log_scope
from core.metrics import Metrics
from core.settings import Settings
from core.tariff.catalog import Catalog

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


def build_routers() -> list[Router]:
    """Feature routers in order; member-only ones are scoped once, on their parent."""
    for_members = FeatureRouter(name="members-only")
    for_members.message.filter(IsMember(), PrivateChat())
    for_members.callback_query.filter(IsMember())
    for_members.include_routers(
        help_router.build_router(),
        members_router.build_router(),
        settings_router.build_router(),
        settings_router.build_dialog_router(),
        audit_router.build_router(),
        tariff_router.build_router(),
        tariff_dialog.build_router(),
        journal_router.build_router(),
        balance_router.build_router(),
        invoices_router.build_router(),
        balance_dialog.build_router(),
        orders_router.build_router(),
        orders_router.build_reason_router(),
        announce_router.build_router(),
        shifts_router.build_router(),
        task_dialog.build_router(),  # before neworder: /cancel inside a task dialog
        tasks_router.build_router(),
        neworder.build_router(),
        intake_router.build_router(),
        connectors_router.build_router(),
        alerts_router.build_router(),
        digest_router.build_router(),
        reports_router.build_router(),
    )
    routers = [
        errors.build_router(),
        notifications_router.build_router(),
        start_router.build_router(),
        invoices_router.build_operator_router(),
        for_members,
        announce_router.build_group_router(),
        fallback.build_router(),
    ]
    for router in routers:
        seal(router)  # an update no handler of a router can take passes it over at once
    return routers


def build_shared_state(settings: Settings) -> SharedState:
    """In this process by default, or in Redis (REDIS_URL) for a fleet of processes."""
    if settings.redis_url is None:
        return SharedState(
            MemoryStorage(),
            SimpleEventIsolation(),
            MemoryUpdateMemory(),
            MemoryFloodMemory(per_second=settings.flood_per_second),
        )
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    prefix = settings.redis_prefix
    keys = DefaultKeyBuilder(prefix=f"{prefix}:fsm")
    return SharedState(
        # Dialog state outlives a process restart; two updates of one member never interleave.
        RedisStorage(
            redis, key_builder=keys, state_ttl=timedelta(days=7), data_ttl=timedelta(days=7)
        ),
        RedisEventIsolation(redis, key_builder=keys),
        RedisUpdateMemory(redis, prefix=f"{prefix}:update"),
        RedisFloodMemory(redis, per_second=settings.flood_per_second, prefix=f"{prefix}:flood"),
        redis,
    )


def build_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    token = settings.bot_token.get_secret_value() if settings.bot_token else OFFLINE_TOKEN
    session.middleware(ResilientRequests())
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


class ScopedDispatcher(Dispatcher):
    """Every line logged while an update is handled carries its update id (and the account,
    once the access middleware knows it): the scope opens before aiogram's own middlewares, so
    the error handler's lines carry them too. Polling and the webhook both feed updates here."""

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> Any:
        with log_scope(update_id=update.update_id):
            return await super().feed_update(bot, update, **kwargs)


def build_dispatcher(
    settings: Settings,
    *,
    clock: Clock,
    i18n: I18n,
    uows: UnitOfWorkFactory,
    catalog: Catalog,
    charts: SentCharts,
    shared: SharedState,
    metrics: Metrics,
    in_flight: InFlight,
    sender: OutboxSender,
) -> Dispatcher:
    """The dispatcher with its middlewares and routers; handlers receive the keyword objects."""
    dp = ScopedDispatcher(
        storage=shared.storage,
        events_isolation=shared.isolation,
        settings=settings,
        clock=clock,
        i18n=i18n,
        uows=uows,
        catalog=catalog,
        operator=load_operator(settings.operator_details),
        charts=charts,
    )
    # Outer middlewares, outermost first: every update passes each of them in this order.
    for middleware in (
        MetricsMiddleware(metrics),
        in_flight,
        DuplicateUpdateMiddleware(shared.update_memory),
        FloodMiddleware(shared.flood_memory, i18n),
        UnitOfWorkMiddleware(uows),
        WakeSenderMiddleware(sender),
        AccessMiddleware(i18n),
        LocaleMiddleware(i18n),
        ReadOnlyNoticeMiddleware(),
    ):
        dp.update.outer_middleware(middleware)
    dp.callback_query.middleware(CallbackAnswers())
    dp.include_routers(*build_routers())
    return dp


def error_explainer(i18n: I18n) -> Callable[[DomainError], str]:
    """A domain error in the bot's English words (the intake API's error bodies, the CLI)."""

    def explain(error: DomainError) -> str:
        # English words; amounts as the parsers read them (1 500,00 ₽), not 1,500.00 ₽.
        with i18n.context(), i18n.use_locale("en"), numbers_as(DEFAULT_LOCALE):
            return errors.error_text(error)

    return explain
