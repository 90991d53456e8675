from __future__ import annotations

import pytest

from core.notifications.limits import Limits, RateLimiter
from core.settings import Settings
from shopdesk.app import build_app
from tests.support.bot_client import BotClient, RecordingSession
from tests.support.factories import join, new_account


@pytest.fixture
async def app(sqlite_url, clock):
    settings = Settings(_env_file=None, database_url=sqlite_url, bot_token=None)
    app = build_app(settings, session=RecordingSession(), clock=clock)
    yield app
    await app.engine.dispose()


@pytest.fixture
def uows(app):
    """Bot tests share the app's database and clock."""
    return app.uows


@pytest.fixture
def deliver(app):
    """What the running sender does after each update: sends what the outbox holds (without
    real waiting for the rate limits); returns how many messages it claimed."""
    app.sender.limiter = RateLimiter(Limits(1000, 1000, 1000))
    return app.sender.drain


@pytest.fixture
def client(app):
    def make(user_id: int, **kwargs) -> BotClient:
        return BotClient(app.dp, app.bot, user_id, **kwargs)

    return make


@pytest.fixture
async def shop(uows):
    """An account with an owner (1000), an admin (2000) and two managers (3001, 3002)."""
    owner = await new_account(uows, name="Демо-магазин")
    admin = await join(uows, owner, 2000, "admin", username="admin")
    m1 = await join(uows, owner, 3001, username="petya")
    m2 = await join(uows, owner, 3002, username="vasya")
    return {"owner": owner, "admin": admin, "m1": m1, "m2": m2}
