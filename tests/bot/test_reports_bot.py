"""/report: the table, the chart, the buttons and the CSV files as members see them."""

from __future__ import annotations

from aiogram.methods import SendChatAction, SendDocument, SendPhoto

OWNER, ADMIN, PETYA, VASYA = 1000, 2000, 3001, 3002


async def test_smoke(client, shop):
    reply = await client(ADMIN).send("/report")
    print(reply.text)
    print(reply.buttons)
