"""Text PostgreSQL cannot store is refused at the edge naming the field (422, never 500), on
SQLite and PostgreSQL alike; SQL parameters — customers' names and phones — never reach the logs."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import func, select

from core.orders.models import Order
from core.settings import Settings
from shopdesk.app import build_app
from tests.support.bot_client import RecordingSession
from web.openapi import EXAMPLE

URL = "/api/v1/orders"
NAME = "Аграфена Тестовая-Логова"
PHONE = "+7 913 555-01-77"


@pytest.fixture
async def app(engine, clock):
    """The app on each database (the `engine` fixture: SQLite, and PostgreSQL when set)."""
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=url, bot_token=None)
    app = build_app(settings, session=RecordingSession(), clock=clock, engine=engine)
    yield app


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _raw(order: dict) -> bytes:
    # ensure_ascii keeps "\u0000" and a lone "\ud800" as JSON escapes, as a client sends them.
    return json.dumps(order, ensure_ascii=True).encode()


def _with(path: str, value: str) -> dict:
    order = json.loads(json.dumps(EXAMPLE))
    holder, *rest = path.split(".")
    if rest:
        order[holder][rest[0]] = value
    else:
        order[path] = value
    return order


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("customer.name", "Иван\x00Петров"),
        ("comment", "позвонить\x00"),
        ("external_id", "shop-\x0010042"),
        ("customer.address", "Москва\ud800"),
        ("number", "10\x0042"),
    ],
)
async def test_unstorable_characters_are_422_naming_the_field(api, token, uows, path, value):
    reply = await api.post(URL, data=_raw(_with(path, value)), headers=_auth(token))
    assert reply.status == 422
    error = (await reply.json())["error"]
    assert error["code"] == "invalid_field" and error["field"] == path
    async with uows() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Order)) == 0
    # The same order without the bad character goes in: the refusal was about that character.
    fine = await api.post(URL, data=_raw(EXAMPLE), headers=_auth(token))
    assert fine.status == 201


async def test_an_item_title_with_nul_names_the_item(api, token):
    order = json.loads(json.dumps(EXAMPLE))
    order["items"][0]["title"] = "Чай\x00ник"
    reply = await api.post(URL, data=_raw(order), headers=_auth(token))
    assert reply.status == 422
    assert (await reply.json())["error"]["field"] == "items[0].title"


async def test_sql_parameters_never_reach_the_logs_even_at_debug(api, token, uows, caplog):
    order = _with("customer.name", NAME)
    order["customer"]["phone"] = PHONE
    caplog.set_level(logging.DEBUG)  # the root: the app's loggers
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "web", "core", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    reply = await api.post(URL, data=_raw(order), headers=_auth(token))
    assert reply.status == 201
    again = await api.post(URL, data=_raw(order), headers=_auth(token))
    assert again.status == 200
    # A statement that fails inside the database layer: its error names no parameter either.
    async with uows() as uow:
        stored = await uow.session.get(Order, (await reply.json())["id"])
        assert stored.customer_name == NAME
        clash = Order(
            account_id=stored.account_id,
            number=stored.number,
            customer_name=NAME,
            customer_phone=PHONE,
            total=1,
            currency="RUB",
            source=stored.source,
            status=stored.status,
        )
        uow.session.add(clash)
        with pytest.raises(Exception) as failed:
            await uow.session.flush()
        logging.getLogger("core").exception("flush failed", exc_info=failed.value)
        await uow.rollback()
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)  # it was on
    assert "INSERT INTO orders" in caplog.text  # the statements were logged...
    logged = caplog.text + "\n".join(str(r.exc_info) for r in caplog.records)
    assert NAME not in logged and PHONE not in logged  # ...their parameters were not
    assert NAME not in str(failed.value) and PHONE not in str(failed.value)
