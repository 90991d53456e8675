"""Schemathesis generates requests from the served OpenAPI document: no request gets a 5xx, on
SQLite and on PostgreSQL (when TEST_POSTGRES_URL is set), whose text columns refuse NUL."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from bot.console.chat import OfflineSession
from core.intake.tokens import issue_token_for_account
from core.settings import Settings
from shopdesk.app import build_app
from tests.support.db import PostgresSchema, build_sqlite_template, sqlite_url
from tests.support.factories import new_account
from web.openapi import openapi_document
from web.server import WebServer

schema = schemathesis.openapi.from_dict(openapi_document())


class ServedApi:
    """The real HTTP server on 127.0.0.1 in a thread of its own (schemathesis calls are sync)."""

    def __init__(self, database: Path | None, postgres: PostgresSchema | None = None) -> None:
        self.database, self.postgres = database, postgres
        self.base_url = ""
        self.token = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        if self.postgres is not None:
            engine = self.postgres.engine()
            await self.postgres.truncate(engine)
            url = self.postgres.url
        else:
            engine, url = None, sqlite_url(self.database)
        settings = Settings(_env_file=None, database_url=url, http_port=0)
        app = build_app(settings, session=OfflineSession(), engine=engine)
        owner = await new_account(app.uows)
        async with app.uows() as uow:
            self.token = (await issue_token_for_account(uow, owner.account_id)).token
        server = WebServer(app.web)
        await server.start()
        self.base_url = f"http://127.0.0.1:{server.port}"
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await server.stop()
        await app.engine.dispose()

    def __enter__(self) -> ServedApi:
        self._thread.start()
        assert self._ready.wait(60), "the API server did not start"
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request, tmp_path_factory):
    if request.param == "postgres":
        served = ServedApi(None, request.getfixturevalue("pg_schema"))
    else:
        database = build_sqlite_template(tmp_path_factory.mktemp("schemathesis") / "api.db")
        served = ServedApi(database)
    with served as api:
        yield api


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, served):
    response = case.call(
        base_url=served.base_url, headers={"Authorization": f"Bearer {served.token}"}
    )
    assert response.status_code < 500, (response.status_code, response.text[:500])
