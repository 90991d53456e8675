from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.members.service import block_member
from shopdesk.app import build_app
from tests.support.bot_client import RecordingSession
from tests.support.factories import join, new_account
from tests.support.orders import add_order
from tests.support.webapp import sign_init_data, webapp_settings
from web.server import build_web_app


@pytest.fixture
async def app(sqlite_url, clock):
    app = build_app(webapp_settings(sqlite_url), session=RecordingSession(), clock=clock)
    yield app
    await app.engine.dispose()


@pytest.fixture
def uows(app):
    return app.uows


@pytest.fixture
async def shop(uows):
    """An owner (1000), an admin (2000), two managers (3001 @petya, 3002 @vasya)."""
    owner = await new_account(uows, name="Демо-магазин")
    return {
        "owner": owner,
        "admin": await join(uows, owner, 2000, "admin", username="admin"),
        "manager": await join(uows, owner, 3001, username="petya"),
        "m2": await join(uows, owner, 3002, username="vasya"),
    }


@pytest.fixture
async def blocked(uows, shop):
    """A blocked manager (3003)."""
    gone = await join(uows, shop["owner"], 3003, username="gone")
    async with uows() as uow:
        await block_member(uow, shop["owner"], gone.member_id, "left")
    return gone


@pytest.fixture
async def foreign_order(uows, shop) -> int:
    """An order of another account (its owner is 9000)."""
    other = await new_account(uows, owner_tg=9000, name="Чужой")
    return await add_order(uows, other.account_id, "X-1")


@pytest.fixture
async def api(app):
    client = TestClient(TestServer(build_web_app(app.web)))
    await client.start_server()
    yield client
    await client.close()


@pytest.fixture
def signed(clock):
    """telegram id → the Authorization header Telegram's page would send now."""

    def header(telegram_id: int, **kwargs) -> dict[str, str]:
        return {"Authorization": "tma " + sign_init_data(telegram_id, clock.now(), **kwargs)}

    return header
