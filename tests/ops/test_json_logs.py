"""LOG_FORMAT=json: one JSON object per line, naming the update / account / HTTP request the
line was logged for; the filters that keep stored data out of the logs still apply."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.db.engine import create_engine
from core.intake.tokens import issue_token_for_account
from core.logs import JsonFormatter, configure_logging, log_scope
from tests.support.bot_client import BotClient
from tests.support.factories import new_account
from web.openapi import EXAMPLE
from web.server import build_web_app


class JsonLines:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def having(self, text: str) -> dict:
        found = [line for line in self.lines() if text in line["message"]]
        assert len(found) == 1, (text, self.lines())
        return found[0]


@pytest.fixture
def json_logs():
    """The root logger writes JSON lines to a buffer for the test (as LOG_FORMAT=json does)."""
    captured = JsonLines()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield captured
    root.removeHandler(handler)
    root.setLevel(level)


async def test_lines_logged_for_an_update_carry_its_id_and_the_account(app, json_logs):
    owner = await new_account(app.uows)
    seen: list[str] = []

    async def log_and_maybe_fail(handler, event, data):  # inside the handling of one update
        logging.getLogger("shopdesk.test").info("handling %s", event.text)
        seen.append(event.text)
        if event.text == "/boom":
            raise RuntimeError("boom")
        return await handler(event, data)

    app.dp.message.middleware(log_and_maybe_fail)
    client = BotClient(app.dp, app.bot, 1000)
    first = client.message_update("/help")
    await client.feed(first)
    line = json_logs.having("handling /help")
    assert line["update_id"] == first.update_id
    assert line["account_id"] == owner.account_id
    assert line["level"] == "INFO"
    assert line["logger"] == "shopdesk.test"
    assert line["time"].endswith("+00:00")
    assert "request_id" not in line

    # A failing update: the error handler's line (outside the routers) names them too.
    failing = client.message_update("/boom")
    await client.feed(failing)
    failed = json_logs.having(f"update {failing.update_id} failed")
    assert failed["update_id"] == failing.update_id
    assert failed["account_id"] == owner.account_id
    assert "RuntimeError: boom" in failed["exc_info"]
    assert seen == ["/help", "/boom"]

    logging.getLogger("shopdesk.test").info("after the updates")
    after = json_logs.having("after the updates")
    assert "update_id" not in after and "account_id" not in after  # the scopes ended


@pytest.fixture
async def api(app):
    client = TestClient(TestServer(build_web_app(app.web)))
    await client.start_server()
    yield client
    await client.close()


async def test_an_http_request_gets_an_id_returned_in_x_request_id_and_on_its_lines(
    app, api, json_logs, monkeypatch
):
    owner = await new_account(app.uows)
    async with app.uows() as uow:
        token = (await issue_token_for_account(uow, owner.account_id)).token

    # A sane incoming id is kept; a missing or odd one is replaced by a fresh one.
    kept = await api.get("/livez", headers={"X-Request-ID": "lb-7f3a.42"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.42"
    fresh = [
        (await api.get("/livez", headers=headers)).headers["X-Request-ID"]
        for headers in ({}, {"X-Request-ID": "bad id\twith <tags>"}, {"X-Request-ID": "x" * 200})
    ]
    assert len(set(fresh)) == 3 and all(len(i) == 32 and int(i, 16) >= 0 for i in fresh)
    missing = await api.get("/no-such-page", headers={"X-Request-ID": "lb-404"})
    assert missing.status == 404 and missing.headers["X-Request-ID"] == "lb-404"

    async def broken(uow, account_id, command):
        logging.getLogger("shopdesk.test").warning("storing the order")
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("web.intake.intake_order", broken)
    response = await api.post(
        "/api/v1/orders",
        json=EXAMPLE,
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-1"},
    )
    assert response.status == 500
    assert response.headers["X-Request-ID"] == "req-1"
    assert (await response.json())["error"]["code"] == "internal_error"
    for text in ("storing the order", "POST /api/v1/orders failed"):
        line = json_logs.having(text)
        assert line["request_id"] == "req-1", text
        assert line["account_id"] == owner.account_id, text
        assert "update_id" not in line
    assert "RuntimeError: the disk is full" in json_logs.having("failed")["exc_info"]


async def test_a_nested_scope_keeps_the_outer_fields_a_webhook_request_around_its_update(
    json_logs,
):
    with log_scope(request_id="r-9"), log_scope(update_id=5):
        logging.getLogger("shopdesk.test").info("inside")
    assert json_logs.having("inside") | {"time": None} == {
        "time": None,
        "level": "INFO",
        "logger": "shopdesk.test",
        "message": "inside",
        "update_id": 5,
        "request_id": "r-9",
    }


async def test_json_lines_still_leave_out_stored_data(tmp_path, json_logs):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")  # installs the filters
    loggers = [logging.getLogger(n) for n in ("sqlalchemy.engine.Engine", "aiosqlite")]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:  # as DEBUG logging of SQL (echo) would
            logger.setLevel(logging.DEBUG)
        logging.getLogger("sqlalchemy.engine.Engine").info("Row %r", ("Анна", "+7 900"))
        logging.getLogger("aiosqlite").debug("executing %r", ("Анна",))
        logging.getLogger("sqlalchemy.engine.Engine").info("BEGIN (implicit)")
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        await engine.dispose()
    text = json_logs.stream.getvalue()
    assert "Анна" not in text and "+7 900" not in text
    assert json_logs.having("BEGIN (implicit)")["logger"] == "sqlalchemy.engine.Engine"


def test_configure_logging_writes_json_or_text():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        for fmt in ("json", "text"):
            stream = io.StringIO()
            configure_logging("INFO", fmt, stream=stream)
            logging.getLogger("shopdesk.test").info("привет %s", 1)
            line = stream.getvalue().strip()
            if fmt == "json":
                assert json.loads(line)["message"] == "привет 1"
            else:
                assert line.endswith("INFO shopdesk.test: привет 1")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_the_process_writes_json_lines_with_log_format_json(tmp_path):
    from tests.e2e.test_cli import run_cli

    result = run_cli("migrate", database=tmp_path / "db.sqlite", LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines, "alembic logs its steps at INFO"
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert any(line["logger"].startswith("alembic") for line in lines)
