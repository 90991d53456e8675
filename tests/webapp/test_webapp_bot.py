"""The chat's way into the board: the menu button and "Open board" under /orders, /order and
/services, only when WEBAPP_URL is set."""

from __future__ import annotations

from aiogram.methods import SetChatMenuButton
from aiogram.types import InlineKeyboardMarkup

from shopdesk.app import telegram_registration
from tests.support.bot_client import BotClient
from tests.support.orders import add_order
from tests.support.webapp import BOARD_URL


def _board_buttons(reply) -> list[str]:
    urls = []
    for message in reply.messages:
        if isinstance(message.reply_markup, InlineKeyboardMarkup):
            for row in message.reply_markup.inline_keyboard:
                urls += [(b.text, b.web_app.url) for b in row if b.web_app is not None]
    return urls


async def test_orders_order_and_services_offer_the_board(app, uows, shop):
    await add_order(uows, shop["owner"].account_id, "B-1")
    owner = BotClient(app.dp, app.bot, 1000)
    for command in ("/orders", "/order B-1", "/services"):
        reply = await owner.send(command)
        assert _board_buttons(reply) == [("Открыть доску", BOARD_URL)], command


async def test_registration_sets_the_menu_button_to_the_board(app):
    registration = telegram_registration(app.settings, app.bot, app.dp, app.i18n)
    names = [name for name, _step in registration.steps]
    assert "setChatMenuButton" in names
    step = dict(registration.steps)["setChatMenuButton"]
    before = len(app.bot.session.requests)
    await step()
    [request] = app.bot.session.requests[before:]
    assert isinstance(request, SetChatMenuButton)
    assert request.chat_id is None  # every private chat; the page refuses non-members
    assert request.menu_button.web_app.url == BOARD_URL
