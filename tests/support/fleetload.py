"""Load on real bot processes, measured from outside: `/orders` posted to the webhook of one or
more processes (PostgreSQL + Redis), and orders posted to the intake API of one process. What
`make bench` reports as the fleet's webhook and intake throughput."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.orders.models import Order
from tests.support.botprocess import BotProcess, bot_env
from tests.support.fleetsend import _live, free_port
from tests.support.telegram_standin import TelegramStandIn
from web.openapi import EXAMPLE

SECRET = "bench-webhook-secret-0123456789"


class ReplyStandIn(TelegramStandIn):
    """The stand-in, telling a waiting client when a message to its chat arrived; it keeps no
    record of the thousands of sends (the load's latencies are the record)."""

    def __init__(self) -> None:
        super().__init__(recording=False)
        self.waiting: dict[int, asyncio.Future] = {}

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        result = await super()._result(method, params)
        if method.lower() == "sendmessage":
            future = self.waiting.pop(int(params["chat_id"]), None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())
        return result


@dataclass
class Load:
    processes: int
    count: int
    took: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, post to reply
    busy: int = 0  # posts answered 503 (posted again after a pause, as Telegram does)
    failed: int = 0  # updates without an answer within the timeout

    @property
    def rate(self) -> float:
        return self.count / self.took if self.took else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0


def _message(update_id: int, user_id: int, text: str) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "language_code": "ru"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 10**6,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": user,
            "text": text,
        },
    }


async def webhook_load(
    *,
    database_url: str,
    redis_url: str,
    prefix: str,
    folder: Path,
    processes: int,
    users: list[int],
    count: int,
    timeout: float = 30,
) -> Load:
    """Starts `processes` webhook-mode processes and posts `count` `/orders` updates, round-robin
    over the processes, from `users` (each a member; one update in flight per user, the next
    posted when the reply arrived, so len(users) updates are in flight at once). A warm-up
    round (one per user) is not counted."""
    standin = ReplyStandIn()
    await standin.start()
    ports = [free_port() for _ in range(processes)]
    fleet = [
        BotProcess(
            bot_env(
                standin,
                database_url,
                REDIS_URL=redis_url,
                REDIS_PREFIX=prefix,
                WEBHOOK_URL="https://bench.example.com/telegram/webhook",
                WEBHOOK_SECRET=SECRET,
                HTTP_PORT=str(port),
                FLOOD_PER_SECOND="1000",
                LOG_LEVEL="WARNING",
            ),
            folder / f"webhook{processes}-{index}.log",
        ).start()
        for index, port in enumerate(ports)
    ]
    load = Load(processes, count)
    update_ids = itertools.count(random.randint(10**8, 9 * 10**8))
    turn = itertools.count()

    async def one(http: aiohttp.ClientSession, user: int) -> float | None:
        reply = asyncio.get_running_loop().create_future()
        standin.waiting[user] = reply
        update = _message(next(update_ids), user, "/orders")
        began = time.perf_counter()
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        while True:
            port = ports[next(turn) % len(ports)]
            url = f"http://127.0.0.1:{port}/telegram/webhook"
            async with http.post(url, json=update, headers=headers) as answer:
                if answer.status == 200:
                    break
                assert answer.status == 503, (answer.status, await answer.text())
                load.busy += 1
            await asyncio.sleep(0.05)
        try:
            return await asyncio.wait_for(reply, timeout) - began
        except TimeoutError:
            standin.waiting.pop(user, None)
            return None

    async def user_loop(http: aiohttp.ClientSession, user: int, share: int) -> None:
        for _ in range(share):
            took = await one(http, user)
            if took is None:
                load.failed += 1
            else:
                load.latencies.append(took)

    try:
        connector = aiohttp.TCPConnector(limit=len(users) * 2)
        async with aiohttp.ClientSession(connector=connector) as http:
            for process, port in zip(fleet, ports, strict=True):
                await _live(http, process, port)
            await asyncio.gather(*(one(http, user) for user in users))  # warm-up
            shares = [count // len(users) + (i < count % len(users)) for i in range(len(users))]
            began = time.perf_counter()
            await asyncio.gather(
                *(user_loop(http, u, s) for u, s in zip(users, shares, strict=True))
            )
            load.took = time.perf_counter() - began
    finally:
        await asyncio.gather(*(process.stop() for process in fleet))
        await standin.stop()
    return load


@dataclass
class Intake:
    count: int
    took: float = 0.0  # through the intake API
    anchor: float = 0.0  # the same rows by raw INSERTs
    stored: int = 0
    refused: list[int] = field(default_factory=list)  # statuses other than 201


def _order(i: int) -> dict:
    order = copy.deepcopy(EXAMPLE)
    order["external_id"] = f"bench-{i}"
    order["number"] = f"I{i}"
    return order


async def intake_load(
    *, engine: AsyncEngine, token: str, folder: Path, count: int, concurrency: int
) -> Intake:
    """One process (PostgreSQL, no Redis) takes `count` orders through POST /api/v1/orders from
    `concurrency` clients; then the same rows (as the API stored them, new numbers) are written
    by `concurrency` connections with one INSERT and one commit per order: the anchor."""
    url = engine.url.render_as_string(hide_password=False)
    standin = TelegramStandIn(recording=False)  # the intake's announcements: not read here
    await standin.start()
    port = free_port()
    env = bot_env(
        standin, url, HTTP_PORT=str(port), INTAKE_PER_MINUTE="100000", LOG_LEVEL="WARNING"
    )
    env.pop("REDIS_URL", None)
    process = BotProcess(env, folder / "intake.log").start()
    result = Intake(count)
    queue = iter(range(count))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def client(http: aiohttp.ClientSession) -> None:
        for i in queue:
            body = json.dumps(_order(i), ensure_ascii=False)
            endpoint = f"http://127.0.0.1:{port}/api/v1/orders"
            async with http.post(endpoint, data=body.encode(), headers=headers) as answer:
                if answer.status != 201:
                    result.refused.append(answer.status)

    try:
        async with aiohttp.ClientSession() as http:
            await _live(http, process, port)
            began = time.perf_counter()
            await asyncio.gather(*(client(http) for _ in range(concurrency)))
            result.took = time.perf_counter() - began
    finally:
        await process.stop()
        await standin.stop()
    async with engine.connect() as conn:
        stored = await conn.execute(select(*Order.__table__.columns).where(Order.number.like("I%")))
        rows = [dict(row) for row in stored.mappings()]
    result.stored = len(rows)
    for row in rows:
        del row["id"]
        row["number"] = "R" + row["number"]
        row["external_id"] = "r" + row["external_id"]
    rows_left = iter(rows)

    async def writer() -> None:
        async with engine.connect() as conn:
            for row in rows_left:
                await conn.execute(insert(Order), row)
                await conn.commit()

    began = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    result.anchor = time.perf_counter() - began
    return result
