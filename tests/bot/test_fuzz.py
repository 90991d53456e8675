"""Hypothesis throws messages and button presses at the bot; nothing may break.

For every generated update: no unhandled exception, the user gets an answer (a message or a
callback answer) within Telegram's size limits, and the invariants hold: every change to a
member has its audit entry, and nothing of another account was changed.
"""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime
from enum import Enum

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.types import Contact, Message, PhotoSize, Sticker, Update
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import bot.telegram  # noqa: F401  (imports every router, so every CallbackData factory is known)
from bot.commands import COMMANDS
from core.audit.models import AuditEntry
from core.members.models import Member

EXAMPLES = 120
_ids = itertools.count(5_000_000)


def callback_factories() -> list[type[CallbackData]]:
    found, todo = [], list(CallbackData.__subclasses__())
    while todo:
        factory = todo.pop()
        found.append(factory)
        todo.extend(factory.__subclasses__())
    return found


def field_strategy(annotation, ids: st.SearchStrategy[int]) -> st.SearchStrategy:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from(list(annotation))
    if annotation in (int, "int"):
        return st.one_of(ids, st.integers(-5, 10**12))
    if annotation in (bool, "bool"):
        return st.booleans()
    return st.text(alphabet="abcdefghij_0123456789", max_size=12)


def packed(factory: type[CallbackData], ids) -> st.SearchStrategy[str]:
    fields = {
        name: field_strategy(info.annotation, ids) for name, info in factory.model_fields.items()
    }

    def pack(values: dict) -> str:
        try:
            return factory(**values).pack()
        except ValueError:  # over 64 bytes: aiogram refuses to pack it, so forge it by hand
            return f"{factory.__prefix__}:" + ":".join(str(v) for v in values.values())

    return st.fixed_dictionaries(fields).map(pack)


def callback_data(ids) -> st.SearchStrategy[str]:
    valid = st.one_of(*(packed(f, ids) for f in callback_factories()))
    garbage = st.one_of(
        st.text(min_size=1, max_size=64),
        st.text(min_size=65, max_size=200),
        st.sampled_from([f.__prefix__ for f in callback_factories()]).map(lambda p: p + ":"),
    )
    return st.one_of(valid, garbage)


def command_text(ids) -> st.SearchStrategy[str]:
    names = st.sampled_from([c.name for c in COMMANDS] + ["start", "nonexistent"])
    args = st.one_of(
        st.just(""),
        st.text(max_size=80),
        ids.map(str),
        st.sampled_from(["@petya", "@vasya", "@admin", "@nobody", "1000", "-1", "99999999999"]),
        st.integers(-(10**20), 10**20).map(str),
    )
    extra = st.one_of(st.just(""), st.text(max_size=40), st.sampled_from(["admin", "owner"]))
    return st.tuples(names, args, extra).map(lambda t: f"/{t[0]} {t[1]} {t[2]}".strip())


def message_kind() -> st.SearchStrategy[dict]:
    sticker = Sticker(
        file_id="s",
        file_unique_id="s",
        type="regular",
        width=1,
        height=1,
        is_animated=False,
        is_video=False,
    )
    photo = [PhotoSize(file_id="p", file_unique_id="p", width=1, height=1)]
    contact = Contact(phone_number="+70000000000", first_name="X")
    return st.sampled_from([{"sticker": sticker}, {"photo": photo}, {"contact": contact}])


async def snapshot(uows, account_id: int):
    async with uows() as uow:
        members = {
            m.id: (m.status, m.role_id)
            for m in await uow.session.scalars(
                select(Member).where(Member.account_id == account_id)
            )
        }
        audited = set(
            await uow.session.scalars(
                select(AuditEntry.subject_id).where(
                    AuditEntry.account_id == account_id, AuditEntry.subject_type == "member"
                )
            )
        )
        audit_count = len(
            list(
                await uow.session.scalars(
                    select(AuditEntry.id).where(AuditEntry.account_id == account_id)
                )
            )
        )
    return members, audited, audit_count


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def world(app, client, shop, uows):
    from tests.support.factories import join, new_account

    app.flood_memory.per_second = 10**6  # the fuzzer is fast on purpose; flooding is tested apart
    other_owner = await new_account(uows, owner_tg=9000, name="Other shop")
    foreign = await join(uows, other_owner, 9001)
    handler = Failures()
    logging.getLogger().addHandler(handler)
    ids = st.sampled_from([a.member_id for a in shop.values()] + [foreign.member_id, 0, 10**6])
    yield {
        "app": app,
        "client": client,
        "shop": shop,
        "other": other_owner.account_id,
        "ids": ids,
        "failures": handler,
    }
    logging.getLogger().removeHandler(handler)


def _answered(reply, is_callback: bool) -> None:
    if is_callback:
        assert reply.answered_callback, reply.requests
    else:
        assert reply.messages, reply.requests
    for request in reply.requests:
        if isinstance(request, SendMessage | EditMessageText):
            assert 1 <= len(request.text) <= 4096
        if isinstance(request, AnswerCallbackQuery) and request.text:
            assert len(request.text) <= 200


@pytest.mark.parametrize("who", [1000, 2000, 3001, 424242])
@settings(
    max_examples=EXAMPLES // 4,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
async def test_fuzzed_updates_never_break_the_bot(world, who, data):
    uows = world["app"].uows
    ids = world["ids"]
    account = world["shop"]["owner"].account_id
    before_other = await snapshot(uows, world["other"])
    before = await snapshot(uows, account)
    user = world["client"](who, username={1000: "owner", 2000: "admin"}.get(who, f"u{who}"))
    kind = data.draw(st.sampled_from(["command", "text", "long", "media", "button"]))
    if kind == "button":
        reply = await user.press(data.draw(callback_data(ids)), message_id=1)
    elif kind == "media":
        message = Message(
            message_id=next(_ids),
            date=datetime.now(UTC),
            chat=user.chat,
            from_user=user.user,
            **data.draw(message_kind()),
        )
        reply = await user.feed(Update(update_id=next(_ids), message=message))
    else:
        text = {
            "command": command_text(ids),
            "text": st.text(min_size=1, max_size=300),
            "long": st.text(min_size=4000, max_size=4096),
        }[kind]
        reply = await user.send(data.draw(text))
    _answered(reply, kind == "button")
    assert world["failures"].records == [], world["failures"].records[0].getMessage()
    assert await snapshot(uows, world["other"]) == before_other
    members, audited, count = await snapshot(uows, account)
    changed = {m for m, state in members.items() if before[0].get(m) != state}
    assert changed <= audited, f"members changed without an audit entry: {changed}"
    if changed:
        assert count > before[2]
