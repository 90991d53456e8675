"""A small Bot API stand-in served on 127.0.0.1 for end-to-end tests of the real process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 123456
WINDOW = 0.95


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None
    answered: bool = False  # the stand-in finished its answer (the client may not have read it)


@dataclass
class TelegramStandIn:
    """Answers like the Bot API; optionally enforces send limits and scripted failures.

    `per_second` / `per_chat_per_second` (sliding one-second windows): a send beyond them is
    answered 429 with retry_after, as Telegram does. `script[chat_id]` is a list of answers
    ("429", "403", "502") consumed one per send to that chat before it succeeds.

    For crash tests: `send_delay` holds every accepted sendMessage that long before answering
    (Telegram has the message, the bot does not know yet); `files` are served at
    /file/bot<token>/<path>, `downloads_served` counts bodies sent in full. getUpdates confirms
    updates as Telegram does: once asked with a higher offset, it never returns them again.
    """

    token: str = f"{BOT_ID}:TEST-token-for-loopback-only"
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    per_second: float | None = None
    per_chat_per_second: float | None = None
    retry_after: int = 1
    script: dict[int, list[str]] = field(default_factory=dict)
    delivered: list[tuple[int, str]] = field(default_factory=list)
    delivered_at: list[float] = field(default_factory=list)  # time.monotonic() of each
    answered_429: int = 0
    send_delay: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)
    downloads_served: int = 0
    confirmed: int = 0  # updates below this update_id are confirmed
    # A load of thousands of sends (the bench's fleet) keeps no record of them: each call's
    # parameters and answer are kilobytes (a rendered list with its keyboard).
    recording: bool = True

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._sends: deque[tuple[float, int]] = deque()
        self.base = ""
        self.new_call = asyncio.Event()

    async def start(self, port: int = 0) -> str:
        """Serves on `port` (0: any free one); returns the base address."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def wait_disconnected(self, timeout: float = 20) -> None:
        """Every client connection closed: whatever a killed bot had fully sent has been read."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._runner.server.connections:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("a client connection stayed open")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def push_message(self, user_id: int, text: str, first_name: str = "Tester") -> int:
        """The user writes to the bot; returns the update's id."""
        return self._push(user_id, first_name, text=text)

    def push_document(self, user_id: int, file_name: str, data: bytes) -> int:
        """The user sends a file; returns the update's id."""
        file_id = f"file-{len(self.files) + 1}"
        self.files[f"documents/{file_id}"] = data
        document = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_name": file_name,
            "mime_type": "text/csv",
            "file_size": len(data),
        }
        return self._push(user_id, "Tester", document=document)

    def _push(self, user_id: int, first_name: str, **content: Any) -> int:
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "ru"}
        update_id = next(self._update_ids)
        self.updates.append(
            {
                "update_id": update_id,
                "message": {
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private", "first_name": first_name},
                    "from": user,
                    **content,
                },
            }
        )
        return update_id

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 20) -> list[Call]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.calls_of(method)) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"{method} x{count} not seen; calls: {self.calls}")
            self.new_call.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.new_call.wait(), min(remaining, 0.5))
        return self.calls_of(method)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = {k: _maybe_json(v) for k, v in (await request.post()).items()}
        call = Call(method, params)
        if self.recording:
            self.calls.append(call)
        self.new_call.set()
        if method.lower() == "sendmessage":
            refusal = self._refuse_send(int(params["chat_id"]))
            if refusal is not None:
                call.answered = True
                return refusal
            if self.recording:
                self.delivered.append((int(params["chat_id"]), params.get("text", "")))
                self.delivered_at.append(time.monotonic())
        call.result = await self._result(method, params)
        if method.lower() == "sendmessage" and self.send_delay:
            await asyncio.sleep(self.send_delay)  # accepted: the message is out, the answer is not
        call.answered = True
        return web.json_response({"ok": True, "result": call.result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        data = self.files.get(path)
        if request.match_info["token"] != self.token or data is None:
            return web.json_response({"ok": False, "error_code": 404}, status=404)
        self.calls.append(Call("download", {"path": path}))
        self.new_call.set()
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = len(data)
        await response.prepare(request)
        await response.write(data)
        await response.write_eof()
        self.downloads_served += 1
        return response

    def _refuse_send(self, chat_id: int) -> web.Response | None:
        scripted = self.script.get(chat_id)
        if scripted:
            answer = scripted.pop(0)
            if answer == "429":
                return self._too_many()
            if answer == "403":
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user",
                    },
                    status=403,
                )
            return web.json_response(
                {"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502
            )
        now = time.monotonic()
        self._sends.append((now, chat_id))
        # Windows a little under a second: arrival jitter on loopback is not the sender's fault.
        while self._sends and self._sends[0][0] <= now - WINDOW:
            self._sends.popleft()
        if self.per_second and len(self._sends) > self.per_second:
            self._sends.pop()
            return self._too_many()
        if self.per_chat_per_second:
            in_chat = sum(1 for _, c in self._sends if c == chat_id)
            if in_chat > self.per_chat_per_second:
                self._sends.pop()
                return self._too_many()
        return None

    def _too_many(self) -> web.Response:
        self.answered_429 += 1
        return web.json_response(
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {self.retry_after}",
                "parameters": {"retry_after": self.retry_after},
            },
            status=429,
        )

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        if name == "getme":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "ShopDesk",
                "username": "shopdesk_standin_bot",
            }
        if name == "getupdates":
            self.confirmed = max(self.confirmed, int(params.get("offset") or 0))
            pending = [u for u in self.updates if u["update_id"] >= self.confirmed]
            if not pending:
                await asyncio.sleep(0.05)
            return pending
        if name == "getfile":
            file_id = params["file_id"]
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self.files.get(f"documents/{file_id}", b"")),
                "file_path": f"documents/{file_id}",
            }
        if name in {"sendmessage", "editmessagetext"}:
            return {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        return True


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
