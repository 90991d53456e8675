from __future__ import annotations

import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.connectors.crypto import new_key
from core.connectors.service import Keys, create_connector_for_account
from core.notifications.limits import Limits, RateLimiter
from core.settings import Settings
from shopdesk.app import build_app
from tests.connectors.support import (
    DATA,
    ECWID_SECRET,
    ECWID_STORE,
    ECWID_TOKEN,
    SHOPIFY_SECRET,
    Hook,
    path_of,
)
from tests.support.bot_client import RecordingSession
from tests.support.factories import join, new_account
from web.server import build_web_app

KEY = new_key()


class EcwidStandIn:
    """Ecwid's REST API on 127.0.0.1: GET /{store}/orders/{id} with the store's token."""

    def __init__(self) -> None:
        self.orders: dict[str, dict] = {}
        self.fail_next = 0  # answer 503 this many times first
        self.calls = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        if request.headers.get("Authorization") != f"Bearer {ECWID_TOKEN}":
            return web.json_response({"errorMessage": "token"}, status=403)
        if self.fail_next:
            self.fail_next -= 1
            return web.json_response({"errorMessage": "later"}, status=503)
        order = self.orders.get(request.match_info["order"])
        if order is None or request.match_info["store"] != ECWID_STORE:
            return web.json_response({"errorMessage": "no order"}, status=404)
        return web.json_response(order)

    def put(self, name: str, entity_id: int, **changes) -> None:
        order = json.loads((DATA / "ecwid" / f"{name}.json").read_text())
        order.update(changes)
        self.orders[str(entity_id)] = order


@pytest.fixture
async def ecwid():
    standin = EcwidStandIn()
    app = web.Application()
    app.router.add_get("/api/v3/{store}/orders/{order}", standin.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    standin.base = str(server.make_url("/api/v3")).rstrip("/")
    yield standin
    await server.close()


def settings_for(url: str, ecwid_base: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=url,
        bot_token=None,
        connector_secret_key=KEY,
        ecwid_api_base=ecwid_base,
        public_url="https://desk.example.com",
    )


@pytest.fixture
async def app(sqlite_url, clock, ecwid):
    app = build_app(settings_for(sqlite_url, ecwid.base), session=RecordingSession(), clock=clock)
    yield app
    await app.engine.dispose()


@pytest.fixture
def uows(app):
    return app.uows


@pytest.fixture
async def shop(uows):
    owner = await new_account(uows, name="Демо-магазин")
    petya = await join(uows, owner, 3001, username="petya")
    return {"owner": owner, "m1": petya}


@pytest.fixture
async def api(app):
    client = TestClient(TestServer(build_web_app(app.web)))
    await client.start_server()
    app.sender.limiter = RateLimiter(Limits(1000, 1000, 1000))
    yield client
    await client.close()


async def make_hook(app, account_id: int, platform: str) -> Hook:
    keys = Keys()
    if platform == "shopify":
        keys = Keys(secret=SHOPIFY_SECRET)
    elif platform == "ecwid":
        keys = Keys(secret=ECWID_SECRET, store_id=ECWID_STORE, store_token=ECWID_TOKEN)
    async with app.uows() as uow:
        issued = await create_connector_for_account(uow, account_id, platform, app.connectors, keys)
    secret = issued.secret or keys.secret
    return Hook(platform, path_of(issued.url), secret)


@pytest.fixture
def hook_for(app, shop):
    async def make(platform: str) -> Hook:
        return await make_hook(app, shop["owner"].account_id, platform)

    return make
