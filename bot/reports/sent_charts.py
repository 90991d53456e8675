"""Charts Telegram already has: an identical chart is sent again by its file_id, not redrawn.

A chart is known by a fingerprint of its ChartData: every number, label and (translated) title
it shows, so another locale or any changed figure is another chart, drawn and uploaded anew.
The file ids live in a bounded LRU of this process; a fleet of processes draws a chart at most
once per process. If Telegram refuses a remembered id, the chart is drawn and uploaded again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from dataclasses import astuple

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, Message

from bot.reports import chart
from bot.reports.chart import ChartData

log = logging.getLogger(__name__)


def fingerprint(data: ChartData) -> bytes:
    return hashlib.blake2b(repr(astuple(data)).encode(), digest_size=16).digest()


class SentCharts:
    """Fingerprint → the file_id of the photo Telegram stored, least recently used dropped."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._ids: OrderedDict[bytes, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def get(self, key: bytes) -> str | None:
        file_id = self._ids.get(key)
        if file_id is not None:
            self._ids.move_to_end(key)
        return file_id

    def put(self, key: bytes, file_id: str) -> None:
        self._ids[key] = file_id
        self._ids.move_to_end(key)
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)

    def forget(self, key: bytes) -> None:
        self._ids.pop(key, None)

    def clear(self) -> None:
        self._ids.clear()


async def send_chart(
    message: Message, bot: Bot, charts: SentCharts, data: ChartData, caption: str
) -> None:
    key = fingerprint(data)
    file_id = charts.get(key)
    if file_id is not None:
        try:
            await message.answer_photo(file_id, caption=caption)
            return
        except TelegramBadRequest as exc:  # the file is gone on Telegram's side
            log.info("chart file_id refused (%s): drawing it again", exc.message)
            charts.forget(key)
    # Drawn off the event loop, "uploading photo" shown meanwhile.
    await bot.send_chat_action(message.chat.id, ChatAction.UPLOAD_PHOTO)
    png = await asyncio.to_thread(chart.render, data)
    photo = BufferedInputFile(png, filename="report.png")
    sent = await message.answer_photo(photo, caption=caption)
    if sent.photo:
        charts.put(key, sent.photo[-1].file_id)  # the largest size: the one we uploaded
