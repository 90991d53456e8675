"""`python -m bot console`: a terminal chat with the real Dispatcher, routers and core.

shopdesk/cli.py builds the app (offline session, movable clock) and hands it to `Console`.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile, FSInputFile, InlineKeyboardMarkup

from bot.console.chat import ChatClient, OfflineSession
from bot.notifications.sender import OutboxSender
from core.clock import Clock, FrozenClock
from core.db.uow import UnitOfWorkFactory
from core.demo import PERSONAS, Persona, persona
from core.jobs import Job, run_all
from core.members.access import load_member

_TAG = re.compile(r"<[^>]+>")
_STEP = re.compile(r"^\+(\d{1,4})([dhm])$")
_AT = re.compile(r"^(\d{1,2}):(\d{2})$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
HELP = (
    "Type a command or text as in Telegram. 1, 2, … press the buttons of the last message; "
    "/as owner|admin|manager1|manager2|manager3 switches the member; /clock +1d (or +3h, +30m, "
    "or 09:00 for the next 09:00 in the shop's zone) moves time on and runs the scheduled jobs; "
    "/quit or Ctrl-D exits."
)


class ConsoleApp(Protocol):
    """What the console uses of the app the composition root built (shopdesk.app.App)."""

    dp: Dispatcher
    bot: Bot
    clock: Clock
    uows: UnitOfWorkFactory
    jobs: list[Job]
    sender: OutboxSender


def plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


class Console:
    def __init__(
        self, app: ConsoleApp, out: TextIO, files_dir: Path, *, who: str = "owner"
    ) -> None:
        if not isinstance(app.clock, FrozenClock):
            raise TypeError("the console needs a FrozenClock to move time")
        self.app, self.out, self.files_dir = app, out, files_dir
        self.clock: FrozenClock = app.clock
        self.clients = {p.key: self._client(p) for p in PERSONAS}
        self.names = {p.telegram_id: p.name for p in PERSONAS}
        self.current = persona(who)
        self.buttons: list[tuple[int, str]] = []  # (message id, callback data) of the last keyboard
        app.bot.session.listener = self.show  # type: ignore[attr-defined]

    def _client(self, person: Persona) -> ChatClient:
        first = person.name.partition(" ")[0]
        return ChatClient(
            self.app.dp,
            self.app.bot,
            person.telegram_id,
            first_name=first,
            username=person.username,
            language_code="ru",
        )

    def say(self, line: str = "") -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def banner(self) -> None:
        self.say(f"── {self.current.name} ({self.current.key}) ──")

    async def run(self, lines: AsyncIterator[str]) -> None:
        self.say(HELP)
        self.banner()
        async for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if line in {"/quit", "/exit"}:
                break
            await self.handle(line)
        self.say("bye")

    async def handle(self, line: str) -> None:
        if line.startswith("/as"):
            self.switch(line[3:].strip())
        elif line.startswith("/clock"):
            await self.advance(line[6:].strip())
        elif line.isdigit():
            await self.press(int(line))
        else:
            self.say(f"you › {line}")
            await self.clients[self.current.key].send(line)
        await self.app.sender.drain()

    def switch(self, key: str) -> None:
        try:
            self.current = persona(key)
        except KeyError:
            self.say("? members: " + ", ".join(p.key for p in PERSONAS))
            return
        self.buttons = []
        self.banner()

    async def advance(self, step: str) -> None:
        delta = await self._step(step)
        if delta is None:
            self.say("? /clock +1d, +3h, +30m or 09:00")
            return
        self.clock.advance(delta)
        self.say(f"⏰ {self.clock.now():%Y-%m-%d %H:%M} UTC{await self._local()}")
        await run_all(self.app.uows, self.app.jobs)
        await self.app.sender.drain()

    async def _zone(self) -> ZoneInfo:
        async with self.app.uows() as uow:
            found = await load_member(uow, self.current.telegram_id)
        return ZoneInfo(found[1].timezone if found else "UTC")

    async def _step(self, step: str) -> timedelta | None:
        """'+1d', '+3h', '+30m'; or '09:00': on to the next 09:00 in the shop's zone."""
        if match := _STEP.match(step):
            return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        match = _AT.match(step)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            return None
        now = self.clock.now().astimezone(await self._zone())
        at = now.replace(hour=int(match.group(1)), minute=int(match.group(2)), second=0)
        at = at.replace(microsecond=0)
        return (at if at > now else at + timedelta(days=1)) - now

    async def _local(self) -> str:
        local = self.clock.now().astimezone(await self._zone())
        return f" ({local:%a %H:%M} {local.tzname()})"

    async def press(self, number: int) -> None:
        if not 1 <= number <= len(self.buttons):
            self.say("? no such button")
            return
        message_id, data = self.buttons[number - 1]
        await self.clients[self.current.key].press(data, message_id=message_id)

    def show(self, method: TelegramMethod[Any], message_id: int | None) -> None:
        chat_id = getattr(method, "chat_id", None)
        to_me = chat_id is None or int(chat_id) == self.current.telegram_id
        prefix = "bot ›" if to_me else f"🔔 to {self.names.get(int(chat_id), chat_id)} ›"
        if isinstance(method, SendMessage):
            self.say(f"{prefix} {plain(method.text)}")
        elif isinstance(method, EditMessageText):
            self.say(f"{prefix} (edited) {plain(method.text)}")
        elif isinstance(method, SendPhoto | SendDocument):
            path = self.save(method.photo if isinstance(method, SendPhoto) else method.document)
            caption = plain(method.caption or "")
            self.say(f"{prefix} 📎 {path} {caption}".rstrip())
        elif isinstance(method, AnswerCallbackQuery):
            if method.text:
                self.say(f"   ({plain(method.text)})")
            return
        elif not isinstance(method, EditMessageReplyMarkup):
            return
        markup = getattr(method, "reply_markup", None)
        if to_me and isinstance(markup, InlineKeyboardMarkup) and message_id is not None:
            self.show_buttons(markup, message_id)

    def show_buttons(self, markup: InlineKeyboardMarkup, message_id: int) -> None:
        self.buttons = []
        rows = []
        for row in markup.inline_keyboard:
            labels = []
            for button in row:
                if button.callback_data is None:
                    labels.append(f"[{button.text}: {button.url}]")
                    continue
                self.buttons.append((message_id, button.callback_data))
                labels.append(f"[{len(self.buttons)}] {button.text}")
            rows.append("   ".join(labels))
        for row in rows:
            self.say(f"      {row}")

    def save(self, media: Any) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        if isinstance(media, str):  # a file Telegram has, sent again by its file_id
            session: OfflineSession = self.app.bot.session  # type: ignore[assignment]
            media = BufferedInputFile(session.files[media], session.file_names[media])
        name = getattr(media, "filename", None) or "file"
        target = self.files_dir / Path(name).name
        if isinstance(media, BufferedInputFile):
            target.write_bytes(media.data)
        elif isinstance(media, FSInputFile):
            target.write_bytes(Path(media.path).read_bytes())
        return target


async def stdin_lines(stream: TextIO) -> AsyncIterator[str]:
    import asyncio

    while line := await asyncio.to_thread(stream.readline):
        yield line
