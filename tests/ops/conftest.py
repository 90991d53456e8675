from __future__ import annotations

import pytest

from core.settings import Settings
from shopdesk.app import build_app
from tests.support.bot_client import RecordingSession


@pytest.fixture
async def app(sqlite_url, clock):
    settings = Settings(_env_file=None, database_url=sqlite_url, bot_token=None)
    app = build_app(settings, session=RecordingSession(), clock=clock)
    yield app
    await app.engine.dispose()
