"""/connect, /connectors (pause, rotate, delete) and /statushook in the bot."""

from __future__ import annotations

import re

import pytest
from aiogram.methods import DeleteMessage

from tests.connectors.support import fixture
from tests.support.bot_client import BotClient

URL = re.compile(r"<code>https://desk\.example\.com(/hooks/[^<]+)</code>")
TILDA_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(app):
    def make(user_id: int, **kwargs) -> BotClient:
        return BotClient(app.dp, app.bot, user_id, **kwargs)

    return make


async def test_connect_each_kind_and_manage_them(client, shop, api, app):
    owner = client(1000)
    assert "/connect shopify" in (await owner.send("/connect")).text
    tilda = await owner.send("/connect tilda")
    path = URL.search(tilda.text).group(1)
    assert path.startswith("/hooks/tilda/1/") and "В Tilda" in tilda.text
    assert "Секрет" not in tilda.text  # the token is inside the URL
    ping = await api.post(path, data=fixture("tilda", "ping"), headers=TILDA_FORM)
    assert ping.status == 200
    woo = await owner.send("/connect woocommerce")
    assert "Секрет (показан только сейчас)" in woo.text and "/hooks/woocommerce/2" in woo.text
    asked = await owner.send("/connect shopify")
    assert "/connect shopify КЛЮЧ" in asked.text
    made = await owner.send("/connect shopify shpss_secret_from_shopify")
    assert "/hooks/shopify/3" in made.text
    assert any(isinstance(r, DeleteMessage) for r in made.requests)  # the key leaves the chat
    listing = await owner.send("/connectors")
    assert "#1 Tilda" in listing.text and "#3 Shopify" in listing.text
    assert "Тест получен" in listing.text
    paused = await owner.click("Пауза #1")
    assert "▶ Возобновить #1" in paused.buttons
    assert (await api.post(path, data=b"Name=A", headers=TILDA_FORM)).status == 410
    await owner.click("Возобновить #1")
    rotated = await owner.click("🔄")
    new_path = URL.search(rotated.text).group(1)
    assert new_path != path and "Прежний секрет больше не действует." in rotated.text
    assert (await api.post(path, data=b"test=test", headers=TILDA_FORM)).status == 401
    assert (await api.post(new_path, data=b"test=test", headers=TILDA_FORM)).status == 200
    await owner.click("🗑 Удалить")
    gone = await owner.click("Да, удалить")
    assert gone.text == "Подключение #1 удалено."
    assert (await api.post(new_path, data=b"test=test", headers=TILDA_FORM)).status == 404
    assert "#1 Tilda" not in (await owner.send("/connectors")).text


async def test_managers_cannot_and_the_status_hook_is_listed(client, shop):
    manager = client(3001, username="petya")
    assert (await manager.send("/connectors")).text == "У вас нет прав на это действие."
    assert (await manager.send("/connect tilda")).text == "У вас нет прав на это действие."
    owner = client(1000)
    set_hook = await owner.send("/statushook https://shop.example/shopdesk")
    assert "X-ShopDesk-Signature" in set_hook.text
    assert "https://shop.example/shopdesk" in (await owner.send("/connectors")).text
    assert (await owner.send("/statushook off")).text == "Веб-хук статусов выключен."
    assert "Укажите полный адрес" in (await owner.send("/statushook shop")).text
