"""Sealed feature routers pass over updates they cannot take, and route exactly as aiogram does.

The same router tree is built twice: once sealed (the gates in bot/routing.py), once left as
plain aiogram routing. Every message below must reach the same handler, with the same
`command.args`, in both; a counting filter shows that the sealed tree no longer asks the
filters of a router about another router's command.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiogram import BaseMiddleware, Bot, Dispatcher, F
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.commands import COMMANDS
from bot.console.chat import ChatClient, OfflineSession
from bot.routing import CommandGate, FeatureRouter, gate_for, seal
from bot.telegram import OFFLINE_TOKEN, build_routers


class Form(StatesGroup):
    text = State()


class CountingCommand(Command):
    """aiogram's Command filter, counting how often it is asked."""

    calls = 0

    async def __call__(self, message: Message, bot: Bot) -> Any:
        CountingCommand.calls += 1
        return await super().__call__(message, bot)


def build_tree(log: list[tuple[str, str | None]]) -> list[FeatureRouter]:
    def record(name: str):
        async def handler(message: Message, command: CommandObject | None = None) -> None:
            log.append((name, command.args if command else None))

        return handler

    async def start_form(message: Message, state: FSMContext) -> None:
        await state.set_state(Form.text)
        log.append(("form", None))

    async def cancel_form(message: Message, state: FSMContext) -> None:
        await state.clear()
        log.append(("form-cancel", None))

    alpha = FeatureRouter(name="alpha")
    alpha.message.register(record("alpha"), CountingCommand("alpha"))
    alpha.message.register(record("bang"), Command("bang", prefix="!"))
    beta = FeatureRouter(name="beta")
    beta.message.register(record("beta"), Command("beta", "gamma"))
    beta.message.register(record("upper"), Command("Upper", ignore_case=True))
    dialog = FeatureRouter(name="dialog")  # a dialog: its text step needs no command
    dialog.message.register(start_form, Command("form"))
    dialog.message.register(cancel_form, Command("cancel"), StateFilter(Form))
    dialog.message.register(record("form-text"), StateFilter(Form.text), F.text)
    later = FeatureRouter(name="later")  # after the dialog: its /cancel loses inside the form
    later.message.register(record("later-cancel"), Command("cancel"))
    later.message.register(record("later-alpha"), Command("alpha"))  # alpha's router wins
    parent = FeatureRouter(name="parent")
    parent.include_routers(alpha, beta, dialog, later)
    fallback = FeatureRouter(name="fallback")
    fallback.message.register(record("fallback"))
    return [parent, fallback]


def dispatcher(log: list, sealed: bool) -> Dispatcher:
    dp = Dispatcher()
    routers = build_tree(log)
    if sealed:
        for router in routers:
            seal(router)
    dp.include_routers(*routers)
    return dp


# (text or caption, the handler it must reach, its command.args)
MESSAGES: list[tuple[dict, str, str | None]] = [
    ({"text": "/alpha"}, "alpha", None),
    ({"text": "/alpha now please"}, "alpha", "now please"),
    ({"text": "  /alpha"}, "alpha", None),
    ({"caption": "/alpha on a photo"}, "alpha", "on a photo"),
    ({"text": "/beta x"}, "beta", "x"),
    ({"text": "/gamma"}, "beta", None),
    ({"text": "/BETA"}, "fallback", None),  # aiogram compares names case-sensitively
    ({"text": "/upper"}, "upper", None),
    ({"text": "/UPPER y"}, "upper", "y"),  # ignore_case=True
    ({"text": "/beta@shopdesk_test_bot y"}, "beta", "y"),
    ({"text": "/beta@ShopDesk_Test_Bot"}, "beta", None),  # mentions ignore case
    ({"text": "/beta@another_bot"}, "fallback", None),  # a command for another bot
    ({"text": "!bang"}, "bang", None),
    ({"text": "!alpha"}, "fallback", None),
    ({"text": "/unknown"}, "fallback", None),
    ({"text": "/"}, "fallback", None),
    ({"text": "hello"}, "fallback", None),
    ({"text": "/cancel"}, "later-cancel", None),  # no form open: the later router's
    ({"text": "/form"}, "form", None),
    ({"text": "some text"}, "form-text", None),  # text in the dialog state reaches the dialog
    ({"text": "/gamma z"}, "beta", "z"),  # a command inside the dialog: its own router
    ({"text": "/cancel"}, "form-cancel", None),  # inside the form the dialog's /cancel wins
    ({"text": "some text"}, "fallback", None),
]


async def run(sealed: bool) -> list[tuple[str, str | None]]:
    log: list[tuple[str, str | None]] = []
    dp = dispatcher(log, sealed)
    bot = Bot(OFFLINE_TOKEN, session=OfflineSession())
    client = ChatClient(dp, bot, 7)
    for content, _, _ in MESSAGES:
        before = len(log)
        await dp.feed_update(bot, client.message_update(**content))
        assert len(log) == before + 1, content  # exactly one handler per message
    return log


async def test_sealed_routing_reaches_exactly_the_handler_aiogram_would():
    expected = [(handler, args) for _, handler, args in MESSAGES]
    assert await run(sealed=False) == expected  # the tree itself routes as intended
    assert await run(sealed=True) == expected


async def test_a_sealed_router_is_not_asked_about_other_commands():
    log: list = []
    for sealed, calls in ((False, 1), (True, 0)):
        dp = dispatcher(log, sealed)
        bot = Bot(OFFLINE_TOKEN, session=OfflineSession())
        CountingCommand.calls = 0
        await dp.feed_update(bot, ChatClient(dp, bot, 7).message_update(text="/beta"))
        assert CountingCommand.calls == calls
        await dp.feed_update(bot, ChatClient(dp, bot, 7).message_update(text="hello"))
        assert CountingCommand.calls == calls * 2
    assert [name for name, _ in log] == ["beta", "fallback", "beta", "fallback"]


def test_gates_of_a_tree():
    routers = build_tree([])
    parent, fallback = routers
    alpha, beta, dialog, _later = parent.sub_routers
    for router in routers:
        seal(router)
    assert isinstance(alpha.gates["message"], CommandGate)
    assert alpha.gates["message"].names == {"alpha", "bang"}
    assert alpha.gates["message"].prefixes == "!/"
    assert beta.gates["message"].names == {"beta", "gamma", "upper"}
    assert "message" not in dialog.gates  # a handler without a command: never passed over
    assert "message" not in parent.gates and "message" not in fallback.gates
    # No handler for callback queries anywhere below: every router passes them over.
    assert not parent.gates["callback_query"](object())
    assert not alpha.gates["edited_message"](object())


def test_an_outer_middleware_or_a_pattern_keeps_a_router_open():
    class Noop(BaseMiddleware):
        async def __call__(self, handler, event, data):
            return await handler(event, data)

    async def handler(message: Message) -> None:
        pass

    watched = FeatureRouter(name="watched")
    watched.message.register(handler, Command("alpha"))
    watched.message.outer_middleware(Noop())  # aiogram runs it for every message reaching it
    assert gate_for(watched, "message") is None

    pattern = FeatureRouter(name="pattern")
    pattern.message.register(handler, Command(re.compile(r"item_\d+")))
    assert gate_for(pattern, "message") is None


def test_every_router_of_the_bot_is_sealed_and_every_menu_command_gets_through():
    routers = build_routers()
    tree = []
    stack = list(routers)
    while stack:
        router = stack.pop()
        tree.append(router)
        stack.extend(router.sub_routers)
    assert all(isinstance(router, FeatureRouter) for router in tree)
    gated = {r.name: r.gates["message"] for r in tree if "message" in r.gates}
    command_routers = [g for g in gated.values() if isinstance(g, CommandGate)]
    assert {"help", "members", "orders", "tariff", "balance", "reports"} <= set(gated)
    for command in COMMANDS:
        owners = [g for g in command_routers if command.name in g.names]
        # Every menu command is let through by a gate, or handled by an open router (a dialog).
        assert owners or command.name in {"neworder", "apitoken", "topup", "prepay"}, command.name


@pytest.fixture
def admin(client, shop):
    return client(2000, username="admin")


async def test_commands_and_dialog_text_through_the_real_routers(admin):
    """A command another router owns is handled there in the middle of a dialog; the dialog's
    text steps and its /cancel still reach the dialog."""
    first = await admin.send("/neworder")
    assert "шаг 1 из 5" in first.text
    listed = await admin.send("/orders")
    assert "Заказы" in listed.text
    step = await admin.send("N-7")
    assert "Шаг 2 из 5" in step.text
    assert (await admin.send("/cancel")).text == "Отменено: ничего не сохранено."
    assert (await admin.send("N-8")).text.startswith("Не понимаю")
