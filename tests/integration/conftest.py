"""The Bot API stand-in on 127.0.0.1 and outbox senders that talk to it."""

from __future__ import annotations

import pytest

from bot.i18n import build_i18n
from bot.notifications.sender import OutboxSender
from bot.telegram import build_bot
from core.notifications.limits import Limits, RateLimiter
from core.settings import Settings
from tests.support.telegram_standin import TelegramStandIn


@pytest.fixture
def standin_limits() -> dict:
    """What the stand-in enforces (answering 429 beyond it); a module overrides it to test that."""
    return {}


@pytest.fixture
def sender_limits() -> Limits:
    """What the senders keep to, unless a test passes its own."""
    return Limits(per_second=40, per_chat_per_second=5, group_per_minute=20)


@pytest.fixture
async def standin(standin_limits):
    server = TelegramStandIn(**standin_limits)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def make_sender(standin, uows, sender_limits):
    """make(limits=None, **options): a new sender with a bot of its own, as another process."""
    bots = []

    def make(limits: Limits | None = None, **options) -> OutboxSender:
        settings = Settings(_env_file=None, bot_token=standin.token, telegram_api_base=standin.base)
        bots.append(bot := build_bot(settings))
        options.setdefault("batch_size", 25)
        limiter = RateLimiter(limits or sender_limits)
        return OutboxSender(bot, uows, build_i18n("ru"), limiter, **options)

    yield make
    for bot in bots:
        await bot.session.close()
