"""Registration with Telegram in the background: the backoff, the retries, the readiness check."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from bot.registration import TelegramNotReady, TelegramRegistration, backoff_delays, retrying


def test_backoff_doubles_from_the_first_delay_up_to_the_cap_with_jitter():
    delays = list(itertools.islice(backoff_delays(60, first=2, rng=random.Random(7)), 12))
    bases = [2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60]
    for delay, base in zip(delays, bases, strict=True):
        assert 0.8 * base <= delay <= min(60, 1.2 * base)
    assert max(delays) <= 60
    assert len(set(delays)) == len(delays), "no jitter: a fleet would retry in lockstep"


def test_backoff_never_exceeds_a_cap_below_the_first_delay():
    delays = list(itertools.islice(backoff_delays(0.05, first=2), 5))
    assert all(0.04 <= d <= 0.05 for d in delays)


async def test_retrying_until_the_call_succeeds():
    answers = iter([ConnectionError("refused"), OSError("unreachable"), "ok"])

    async def attempt():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await retrying("getMe", attempt, backoff_delays(0.01)) == "ok"
    assert next(answers, None) is None  # tried exactly three times


async def test_registration_runs_each_step_once_it_succeeds_and_then_reports_ok():
    done: list[str] = []
    failures = {"setMyCommands": 2, "setWebhook": 1}

    def step(name):
        async def call():
            if failures[name]:
                failures[name] -= 1
                raise ConnectionError(name)
            done.append(name)

        return name, call

    registration = TelegramRegistration(
        [step("setMyCommands"), step("setWebhook")], retry_max_seconds=0.01
    )
    with pytest.raises(TelegramNotReady):
        await registration.check()
    await asyncio.wait_for(registration.run(), 5)
    assert done == ["setMyCommands", "setWebhook"]
    assert await registration.check() is None


async def test_long_polling_registration_is_pending_not_failed_and_cancels_cleanly():
    async def unreachable():
        raise ConnectionError("refused")

    registration = TelegramRegistration(
        [("setMyCommands", unreachable)], retry_max_seconds=0.01, blocks_readiness=False
    )
    task = asyncio.create_task(registration.run())
    await asyncio.sleep(0.05)
    assert await registration.check() == "pending"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not registration.done.is_set()
