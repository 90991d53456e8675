"""The intake API's limits: per account after authentication, per client address before any
database query; shared by two app instances through Redis, in-process without it."""

from __future__ import annotations

import dataclasses
import os
import uuid
from contextlib import asynccontextmanager
from ipaddress import ip_network

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.intake.tokens import issue_token_for_account
from core.limits import Limiter, MemoryStorage, redis_storage
from tests.support.factories import new_account
from web.deps import IntakeLimits, WebDeps
from web.server import build_web_app

URL = "/api/v1/orders"
REDIS = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(
    not REDIS, reason="TEST_REDIS_URL is not set: the shared (Redis) limits are not tested"
)


class CountingUows:
    """The app's unit-of-work factory, counting every database session opened."""

    def __init__(self, uows) -> None:
        self.uows, self.opened = uows, 0
        self.clock = uows.clock

    @asynccontextmanager
    async def __call__(self):
        self.opened += 1
        async with self.uows() as uow:
            yield uow


@pytest.fixture
async def tokens(app):
    """API tokens of two accounts."""
    result = []
    for name in ("A", "B"):
        owner = await new_account(app.uows, name=name, owner_tg=7000 + len(result))
        async with app.uows() as uow:
            result.append((await issue_token_for_account(uow, owner.account_id)).token)
    return result


@pytest.fixture
async def serve():
    clients: list[TestClient] = []

    async def start(deps: WebDeps) -> TestClient:
        client = TestClient(TestServer(build_web_app(deps)))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


def deps_with(app, limiter: Limiter, **limits) -> WebDeps:
    limits.setdefault("trusted_proxies", (ip_network("127.0.0.0/8"),))
    return dataclasses.replace(
        app.web, uows=CountingUows(app.uows), intake_limits=IntakeLimits(limiter, **limits)
    )


def headers(token: str, client: str = "203.0.113.1") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Forwarded-For": client}


async def test_a_token_gets_per_minute_requests_and_then_429_with_retry_after(app, tokens, serve):
    api = await serve(deps_with(app, Limiter(MemoryStorage()), per_minute=3))
    statuses = [(await api.post(URL, data=b"{}", headers=headers(tokens[0]))).status]
    statuses += [(await api.post(URL, data=b"{}", headers=headers(tokens[0]))).status]
    statuses += [(await api.post(URL, data=b"{}", headers=headers(tokens[0]))).status]
    assert statuses == [422, 422, 422]  # let through (and refused for the empty body)
    throttled = await api.post(URL, data=b"{}", headers=headers(tokens[0]))
    assert throttled.status == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    error = (await throttled.json())["error"]
    assert error["code"] == "rate_limited"
    assert error["message"] == (
        "Too many requests with this API token: at most 3 a minute. "
        f"Retry in {throttled.headers['Retry-After']} s."
    )
    other = await api.post(URL, data=b"{}", headers=headers(tokens[1]))
    assert other.status == 422  # another account has its own budget


async def test_random_tokens_from_one_address_get_429_before_any_database_query(app, tokens, serve):
    deps = deps_with(app, Limiter(MemoryStorage()), failures_per_minute=5)
    api = await serve(deps)
    for _ in range(5):
        reply = await api.post(URL, json={}, headers=headers(f"sd_{uuid.uuid4().hex}"))
        assert reply.status == 401
    assert deps.uows.opened == 5  # each unknown token cost one lookup, up to the limit
    for _ in range(30):
        reply = await api.post(URL, json={}, headers=headers(f"sd_{uuid.uuid4().hex}"))
        assert reply.status == 429
        error = (await reply.json())["error"]
        assert error["code"] == "too_many_failures"
        assert "from this address" in error["message"] and int(reply.headers["Retry-After"]) >= 1
    assert deps.uows.opened == 5  # refused without touching the database
    # No token at all counts as a failure too, and is refused the same way.
    assert (await api.post(URL, json={}, headers={"X-Forwarded-For": "203.0.113.1"})).status == 429
    # Another client (behind the same trusted proxy) is not affected.
    fine = await api.post(URL, data=b"{}", headers=headers(tokens[0], client="198.51.100.7"))
    assert fine.status == 422
    # What a client writes in X-Forwarded-For itself comes before the proxy's entry: ignored.
    faked = headers(f"sd_{uuid.uuid4().hex}", client="192.0.2.50, 203.0.113.1")
    assert (await api.post(URL, json={}, headers=faked)).status == 429
    # An untrusted peer's X-Forwarded-For is ignored: spoofing it does not dodge the limit.
    deps = deps_with(app, Limiter(MemoryStorage()), failures_per_minute=2, trusted_proxies=())
    api = await serve(deps)
    for n in range(4):
        spoofed = headers(f"sd_{uuid.uuid4().hex}", client=f"192.0.2.{n}")
        reply = await api.post(URL, json={}, headers=spoofed)
        assert reply.status == (401 if n < 2 else 429)


@pytest.fixture
async def shared():
    """`shared()`: a limiter on Redis, one per app instance (as in separate processes), all
    under this test's own key prefix so parallel runs never share a key."""
    prefix = f"test-limits:{uuid.uuid4().hex}"
    made: list[Limiter] = []

    def make() -> Limiter:
        made.append(Limiter(redis_storage(REDIS, prefix)))
        return made[-1]

    yield make
    for limiter in made:
        await limiter.close()


@needs_redis
async def test_the_token_limit_holds_across_two_app_instances_sharing_redis(
    app, tokens, serve, shared
):
    first, second = [await serve(deps_with(app, shared(), per_minute=4)) for _ in range(2)]
    statuses = []
    for n in range(8):
        api = first if n % 2 == 0 else second
        statuses.append((await api.post(URL, data=b"{}", headers=headers(tokens[0]))).status)
    assert statuses == [422] * 4 + [429] * 4  # 4 a minute for the fleet, not 4 per instance
    # The failures of one address are counted together too.
    first, second = [await serve(deps_with(app, shared(), failures_per_minute=3)) for _ in range(2)]
    statuses = []
    for n in range(6):
        api = first if n % 2 == 0 else second
        reply = await api.post(URL, json={}, headers=headers(f"sd_{n}", client="203.0.113.9"))
        statuses.append(reply.status)
    assert statuses == [401] * 3 + [429] * 3


async def test_redis_unreachable_the_intake_limits_in_this_process(app, tokens, serve, caplog):
    dead = redis_storage("redis://127.0.0.1:1/0", "unreachable")  # nothing listens on port 1
    api = await serve(deps_with(app, Limiter(dead, fallback=MemoryStorage()), per_minute=2))
    statuses = [
        (await api.post(URL, data=b"{}", headers=headers(tokens[0]))).status for _ in range(3)
    ]
    assert statuses == [422, 422, 429]  # still limited, and orders still come in
    assert "counting in this process" in caplog.text
    # Without a fallback the API answers 503 rather than take requests uncounted.
    api = await serve(deps_with(app, Limiter(dead)))
    reply = await api.post(URL, data=b"{}", headers=headers(tokens[0]))
    assert reply.status == 503 and reply.headers["Retry-After"] == "5"
    assert (await reply.json())["error"]["code"] == "unavailable"
    await dead.bridge.storage.aclose()


def test_trusted_proxies_are_read_from_the_settings():
    from core.settings import SettingsError, load_settings

    settings = load_settings(_env_file=None, http_trusted_proxies="10.0.0.5, 172.16.0.0/12")
    assert settings.trusted_proxies == (ip_network("10.0.0.5/32"), ip_network("172.16.0.0/12"))
    with pytest.raises(SettingsError, match="HTTP_TRUSTED_PROXIES"):
        load_settings(_env_file=None, http_trusted_proxies="nginx")
