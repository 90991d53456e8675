"""An offline Bot API session and a chat client: the console and the tests talk through them."""

from __future__ import annotations

import itertools
import struct
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    Document,
    File,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    PhotoSize,
    Update,
    User,
)

BOT_USER = User(id=42, is_bot=True, first_name="ShopDesk", username="shopdesk_test_bot")
_update_ids = itertools.count(1)


@dataclass
class Screen:
    """What one chat shows: messages by id, as last sent or edited."""

    messages: dict[int, Any] = field(default_factory=dict)


class OfflineSession(BaseSession):
    """Records every request and answers it the way Telegram would, without a network."""

    def __init__(self, listener: Callable[[TelegramMethod[Any], int | None], None] | None = None):
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.screens: dict[int, Screen] = {}
        self._message_ids = itertools.count(1000)
        # Told of every request with the id of the message it created or changed.
        self.listener = listener
        # Tests make Telegram refuse the next request of a kind: {EditMessageText: [error, …]}.
        self.failures: dict[type, list[Exception]] = {}
        # file_id → content: documents users send, photos the bot uploaded. Telegram "forgets"
        # a file when a test removes it; sending it again by that file_id is then refused.
        self.files: dict[str, bytes] = {}
        self.file_names: dict[str, str] = {}
        self._file_ids = itertools.count(1)

    async def close(self) -> None:
        pass

    async def stream_content(
        self, url: str, *args: Any, **kwargs: Any
    ) -> AsyncGenerator[bytes, None]:
        file_id = url.rsplit("/", 1)[-1]
        yield self.files.get(file_id, b"")

    def screen(self, chat_id: int) -> Screen:
        return self.screens.setdefault(chat_id, Screen())

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None):
        queued = self.failures.get(type(method))
        if queued:
            raise queued.pop(0)
        self.requests.append(method)
        result = self._answer(method)
        if self.listener is not None:
            message_id = (
                result.message_id
                if isinstance(result, Message)
                else getattr(method, "message_id", None)
            )
            self.listener(method, message_id)
        return result

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, GetFile):
            data = self.files.get(method.file_id, b"")
            return File(
                file_id=method.file_id,
                file_unique_id=method.file_id,
                file_size=len(data),
                file_path=f"documents/{method.file_id}",
            )
        if isinstance(method, SendMessage | SendPhoto | SendDocument):
            photo = [self._photo(method)] if isinstance(method, SendPhoto) else None
            message_id = next(self._message_ids)
            self.screen(int(method.chat_id)).messages[message_id] = method
            return Message(
                message_id=message_id,
                date=datetime.now(UTC),
                chat=Chat(id=int(method.chat_id), type="private"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
                photo=photo,
            )
        if isinstance(method, EditMessageText):
            self.screen(int(method.chat_id)).messages[method.message_id] = method
            return True
        if isinstance(method, EditMessageReplyMarkup):
            screen = self.screen(int(method.chat_id))
            shown = screen.messages.get(method.message_id)
            if shown is not None:
                shown.reply_markup = method.reply_markup
            return True
        return True

    def _photo(self, method: SendPhoto) -> PhotoSize:
        """The stored photo: a new upload gets a file_id; a file_id must be one still stored."""
        if isinstance(method.photo, str):
            file_id = method.photo
            if file_id not in self.files:
                raise TelegramBadRequest(
                    method, "Bad Request: wrong file identifier/HTTP URL specified"
                )
        elif isinstance(method.photo, InputFile):
            file_id = f"photo{next(self._file_ids)}"
            self.files[file_id] = getattr(method.photo, "data", b"")
            self.file_names[file_id] = method.photo.filename or "photo"
        else:
            raise TypeError(f"unsupported photo {method.photo!r}")
        data = self.files[file_id]
        width, height = struct.unpack(">II", data[16:24]) if data[12:16] == b"IHDR" else (0, 0)
        return PhotoSize(
            file_id=file_id,
            file_unique_id=file_id,
            width=width,
            height=height,
            file_size=len(data),
        )


@dataclass
class Reply:
    """The requests one update caused."""

    requests: list[TelegramMethod[Any]]

    @property
    def messages(self) -> list[SendMessage | EditMessageText]:
        return [r for r in self.requests if isinstance(r, SendMessage | EditMessageText)]

    @property
    def text(self) -> str:
        assert self.messages, f"no message was sent; requests: {self.requests}"
        return self.messages[-1].text

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages]

    @property
    def buttons(self) -> list[str]:
        for message in reversed(self.messages):
            if isinstance(message.reply_markup, InlineKeyboardMarkup):
                return button_texts(message.reply_markup)
        return []

    @property
    def answers(self) -> list[AnswerCallbackQuery]:
        return [r for r in self.requests if isinstance(r, AnswerCallbackQuery)]

    @property
    def alert(self) -> str | None:
        """The callback answer's text: Telegram shows the first answer, and refuses any other."""
        return self.answers[0].text if self.answers else None

    @property
    def answered_callback(self) -> bool:
        return any(isinstance(r, AnswerCallbackQuery) for r in self.requests)


def button_texts(markup: InlineKeyboardMarkup) -> list[str]:
    return [button.text for row in markup.inline_keyboard for button in row]


class ChatClient:
    """One Telegram user talking to the bot in a private chat."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        user_id: int,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
    ) -> None:
        self.dp, self.bot = dp, bot
        self.session: OfflineSession = bot.session  # type: ignore[assignment]
        self.user = User(
            id=user_id,
            is_bot=False,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.chat = Chat(id=user_id, type="private")
        self._incoming_ids = itertools.count(1)

    async def feed(self, update: Update) -> Reply:
        start = len(self.session.requests)
        await self.dp.feed_update(self.bot, update)
        return Reply(self.session.requests[start:])

    def message_update(self, text: str | None = None, **content: Any) -> Update:
        message = Message(
            message_id=next(self._incoming_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            text=text,
            **content,
        )
        return Update(update_id=next(_update_ids), message=message)

    async def send(self, text: str | None = None, **content: Any) -> Reply:
        return await self.feed(self.message_update(text, **content))

    async def send_document(
        self, file_name: str, data: bytes, mime_type: str = "text/csv", file_size: int | None = None
    ) -> Reply:
        """Sends a file; the offline session serves its content to bot.download()."""
        file_id = f"doc{next(_update_ids)}"
        self.session.files[file_id] = data
        document = Document(
            file_id=file_id,
            file_unique_id=file_id,
            file_name=file_name,
            mime_type=mime_type,
            file_size=len(data) if file_size is None else file_size,
        )
        return await self.send(document=document)

    def screen_messages(self) -> dict[int, Any]:
        return self.session.screen(self.chat.id).messages

    def find_button(self, label: str) -> tuple[int, str]:
        """The newest message showing a button whose text contains `label`."""
        for message_id, shown in sorted(self.screen_messages().items(), reverse=True):
            markup = shown.reply_markup
            if not isinstance(markup, InlineKeyboardMarkup):
                continue
            for row in markup.inline_keyboard:
                for button in row:
                    if label in button.text:
                        return message_id, button.callback_data
        raise AssertionError(f"no button {label!r} on screen")

    async def click(self, label: str) -> Reply:
        message_id, data = self.find_button(label)
        return await self.press(data, message_id=message_id)

    async def press(self, data: str, *, message_id: int | None = None) -> Reply:
        """Presses raw callback data — forged or stale buttons included."""
        if message_id is None:
            message_id = max(self.screen_messages(), default=1)
        shown = self.screen_messages().get(message_id)
        message = Message(
            message_id=message_id,
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=BOT_USER,
            text=(getattr(shown, "text", None) or getattr(shown, "caption", None) or "…"),
        )
        query = CallbackQuery(
            id=str(next(_update_ids)),
            from_user=self.user,
            chat_instance="ci",
            message=message,
            data=data,
        )
        return await self.feed(Update(update_id=next(_update_ids), callback_query=query))
