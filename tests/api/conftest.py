from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.intake.tokens import issue_token_for_account
from core.notifications.limits import Limits, RateLimiter
from core.settings import Settings
from shopdesk.app import build_app
from tests.support.bot_client import RecordingSession
from tests.support.factories import join, new_account
from web.server import build_web_app


@pytest.fixture
async def app(sqlite_url, clock):
    settings = Settings(_env_file=None, database_url=sqlite_url, bot_token=None)
    app = build_app(settings, session=RecordingSession(), clock=clock)
    yield app
    await app.engine.dispose()


@pytest.fixture
def uows(app):
    return app.uows


@pytest.fixture
async def shop(uows):
    owner = await new_account(uows, name="Демо-магазин")
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    return {"owner": owner, "admin": admin, "m1": petya}


@pytest.fixture
async def token(uows, shop) -> str:
    async with uows() as uow:
        return (await issue_token_for_account(uow, shop["owner"].account_id)).token


@pytest.fixture
async def api(app):
    web_app = build_web_app(app.web)
    client = TestClient(TestServer(web_app))
    await client.start_server()
    # What the running sender does after a response: send the announcements the core wrote.
    app.sender.limiter = RateLimiter(Limits(1000, 1000, 1000))
    client.drain = app.sender.drain
    yield client
    await client.close()
