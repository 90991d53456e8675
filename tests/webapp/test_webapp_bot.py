"""The chat's way into the board, only when WEBAPP_URL is set: each member's menu button (set
through the outbox when they join or come back, reset when blocked or removed) and "Open board"
under /orders, order cards, /services, whether sent fresh or edited by a button."""

from __future__ import annotations

from aiogram.methods import SetChatMenuButton
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select

from core.members.menu import MENU_KIND
from core.members.service import block_member, remove_member, set_locale, unblock_member
from core.notifications.models import OutboxMessage
from shopdesk.app import build_app, telegram_registration
from tests.support.bot_client import BotClient, RecordingSession
from tests.support.factories import join, new_account
from tests.support.orders import add_order
from tests.support.webapp import BOARD_URL, webapp_settings

BOARD = [("Открыть доску", BOARD_URL)]


def _board_buttons(reply) -> list[tuple[str, str]]:
    urls = []
    for message in reply.messages:
        if isinstance(message.reply_markup, InlineKeyboardMarkup):
            for row in message.reply_markup.inline_keyboard:
                urls += [(b.text, b.web_app.url) for b in row if b.web_app is not None]
    return urls


async def _menus(app) -> list[tuple[int, str, str | None]]:
    """Drains the outbox; the setChatMenuButton calls it made: (chat, type, board url)."""
    before = len(app.bot.session.requests)
    await app.sender.drain()
    return [
        (
            r.chat_id,
            r.menu_button.type,
            getattr(r.menu_button, "web_app", None) and r.menu_button.web_app.url,
        )
        for r in app.bot.session.requests[before:]
        if isinstance(r, SetChatMenuButton)
    ]


async def test_orders_order_and_services_offer_the_board(app, uows, shop):
    await add_order(uows, shop["owner"].account_id, "B-1")
    owner = BotClient(app.dp, app.bot, 1000)
    for command in ("/orders", "/order B-1", "/services"):
        reply = await owner.send(command)
        assert _board_buttons(reply) == BOARD, command


async def test_cards_and_lists_edited_by_buttons_keep_the_board_button(app, uows, shop):
    await add_order(uows, shop["owner"].account_id, "B-1")
    manager = BotClient(app.dp, app.bot, 3001)
    await manager.send("/orders")
    free = await manager.click("Свободные")
    assert any("B-1" in b for b in free.buttons) and _board_buttons(free) == BOARD
    card = await manager.click("№B-1")
    assert "Заказ №B-1" in card.text and _board_buttons(card) == BOARD
    claimed = await manager.click("Взять")
    assert "в работе" in claimed.text and _board_buttons(claimed) == BOARD
    picker = await manager.click("Статус")
    assert _board_buttons(picker) == []  # a step inside the card: it has its own way back
    await manager.click("выполнен")
    done = await manager.click("Да, завершить")
    assert "выполнен" in done.text and _board_buttons(done) == BOARD
    owner = BotClient(app.dp, app.bot, 1000)
    await owner.send("/services")
    await owner.click("Заказать услугу")
    journal = await owner.click("Услуги")
    assert _board_buttons(journal) == BOARD


async def test_members_get_the_board_menu_on_joining_and_lose_it_when_blocked_or_removed(
    app, uows, shop
):
    board = {(tg, "web_app", BOARD_URL) for tg in (1000, 2000, 3001, 3002)}
    assert set(await _menus(app)) == board  # the owner's account and three joins
    owner, manager, m2 = shop["owner"], shop["manager"], shop["m2"]
    async with uows() as uow:
        await block_member(uow, owner, manager.member_id, "holiday")
    assert await _menus(app) == [(3001, "default", None)]
    async with uows() as uow:
        await unblock_member(uow, owner, manager.member_id)
    assert await _menus(app) == [(3001, "web_app", BOARD_URL)]
    async with uows() as uow:
        await remove_member(uow, owner, m2.member_id)
    assert await _menus(app) == [(3002, "default", None)]
    await join(uows, owner, 3002, username="vasya")  # back by a new invite
    assert await _menus(app) == [(3002, "web_app", BOARD_URL)]


async def test_the_menu_button_speaks_the_member_s_language(app, uows, shop):
    await _menus(app)
    async with uows() as uow:
        await set_locale(uow, shop["manager"], "en")
    async with uows() as uow:
        await block_member(uow, shop["owner"], shop["manager"].member_id)
        await unblock_member(uow, shop["owner"], shop["manager"].member_id)
    before = len(app.bot.session.requests)
    await app.sender.drain()
    texts = [
        r.menu_button.text
        for r in app.bot.session.requests[before:]
        if isinstance(r, SetChatMenuButton) and r.menu_button.type == "web_app"
    ]
    assert texts == ["Board"]


async def test_start_up_gives_every_active_member_the_board_menu_once(app, uows, shop, blocked):
    await _menus(app)  # what the joins and the block wrote
    registration = telegram_registration(
        app.settings, app.bot, app.dp, app.i18n, app.uows, app.sender.wake
    )
    step = dict(registration.steps)["setChatMenuButton"]
    await step()
    menus = await _menus(app)
    assert sorted(menus) == [(tg, "web_app", BOARD_URL) for tg in (1000, 2000, 3001, 3002)]
    await step()  # a restart: nothing again
    assert await _menus(app) == []


async def test_without_webapp_url_no_menu_button_is_sent(sqlite_url, clock):
    settings = webapp_settings(sqlite_url, webapp_url=None)
    app = build_app(settings, session=RecordingSession(), clock=clock)
    try:
        owner = await new_account(app.uows)
        await join(app.uows, owner, 3001)
        assert await _menus(app) == []
        assert [
            name
            for name, _step in telegram_registration(
                app.settings, app.bot, app.dp, app.i18n, app.uows
            ).steps
        ] == ["setMyCommands"]
        async with app.uows() as uow:
            rows = (
                await uow.session.scalars(
                    select(OutboxMessage.status).where(OutboxMessage.kind == MENU_KIND)
                )
            ).all()
        assert rows == []  # the board is off: members' menus are left alone
        owner_chat = BotClient(app.dp, app.bot, 1000)
        await add_order(app.uows, owner.account_id, "B-1")
        assert _board_buttons(await owner_chat.send("/orders")) == []
    finally:
        await app.engine.dispose()
