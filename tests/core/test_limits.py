from __future__ import annotations

import asyncio
import heapq

from core.notifications.limits import Limits, RateLimiter


class FakeTime:
    """Virtual time: sleeping advances it; a send takes `latency` seconds."""

    def __init__(self, latency: float = 0.0) -> None:
        self.now = 1000.0
        self.latency = latency
        self.starts: list[tuple[float, int]] = []
        self.ends: list[tuple[float, int]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def send(self, limiter: RateLimiter, chat: int, group: bool = False) -> None:
        async with limiter.slot(chat, is_group=group):
            self.starts.append((self.now, chat))
            self.now += self.latency
            self.ends.append((self.now, chat))


def limiter_for(fake: FakeTime, **limits) -> RateLimiter:
    return RateLimiter(Limits(**limits), now=fake.clock, sleep=fake.sleep)


async def test_one_chat_waits_a_full_interval_after_each_send_finished():
    fake = FakeTime(latency=0.3)
    limiter = limiter_for(fake)
    for _ in range(5):
        await fake.send(limiter, 7)
    ends = [t for t, _ in fake.ends]
    starts = [t for t, _ in fake.starts]
    assert all(start - end >= 1 for end, start in zip(ends, starts[1:], strict=False))


async def test_many_chats_are_spaced_by_the_overall_rate():
    fake = FakeTime()
    limiter = limiter_for(fake, per_second=30)
    for chat in range(90):
        await fake.send(limiter, chat)
    elapsed = fake.starts[-1][0] - fake.starts[0][0]
    assert 2.9 <= elapsed <= 3.0  # 90 messages at 30/s


async def test_a_group_gets_at_most_twenty_per_minute():
    fake = FakeTime()
    limiter = limiter_for(fake, per_chat_per_second=100)
    for _ in range(45):
        await fake.send(limiter, -100, group=True)
    times = [t for t, _ in fake.starts]
    assert all(times[i + 20] - times[i] >= 60 for i in range(len(times) - 20))


async def test_pause_after_429_holds_everyone():
    fake = FakeTime()
    limiter = limiter_for(fake)
    await fake.send(limiter, 1)
    limiter.pause(5)
    start = fake.now
    await fake.send(limiter, 2)
    assert fake.starts[-1][0] - start >= 5


async def test_concurrent_sends_to_one_chat_keep_their_order_and_state_is_dropped():
    fake = FakeTime(latency=0.1)
    limiter = limiter_for(fake)

    async def send(n: int) -> None:
        async with limiter.slot(5):
            fake.starts.append((fake.now, n))
            await fake.sleep(0.1)

    await asyncio.gather(*(send(n) for n in range(6)))
    assert [n for _, n in fake.starts] == list(range(6))
    fake.now += 10
    await fake.send(limiter, 6)
    assert limiter._locks == {} and limiter._users == {}


class LateWakeUps:
    """Virtual time for concurrent senders; every `every`-th sleep wakes `lag` seconds late, as
    on a busy event loop. A send takes `latency` (a sleep too, so it may also end late)."""

    def __init__(self, every: int, lag: float, latency: float = 0.0) -> None:
        self.now, self.every, self.lag, self.latency = 1000.0, every, lag, latency
        self.sends: list[tuple[float, float]] = []  # (start, end)
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._sleeps = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self._sleeps += 1
        late = self.lag if self._sleeps % self.every == 0 else 0.0
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + seconds + late, self._sleeps, wake))
        await wake

    async def run(self, limiter: RateLimiter, chats: range) -> None:
        async def send(chat: int) -> None:
            async with limiter.slot(chat):
                start = self.now
                if self.latency:
                    await self.sleep(self.latency)
                self.sends.append((start, self.now))

        tasks = [asyncio.create_task(send(chat)) for chat in chats]
        while not all(task.done() for task in tasks):
            if len(self._timers) < sum(not task.done() for task in tasks):
                await asyncio.sleep(0)  # someone is still running: let them reach a sleep
                continue
            when, _, wake = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            wake.set_result(None)


def most_in_one_second(sends: list[tuple[float, float]]) -> int:
    """The most sends that may reach Telegram within one second: a send arrives somewhere
    between its start and its end, so count, at each start, the sends that started by then
    and had not ended a second before."""
    return max(sum(1 for s, e in sends if s <= start and e > start - 1) for start, _ in sends)


async def test_late_wake_ups_never_put_more_than_per_second_into_one_second():
    fake = LateWakeUps(every=4, lag=0.3)
    limiter = RateLimiter(
        Limits(per_second=10, per_chat_per_second=100), now=fake.clock, sleep=fake.sleep
    )
    await fake.run(limiter, range(80))
    assert len(fake.sends) == 80
    assert most_in_one_second(fake.sends) <= 10


async def test_a_send_counts_against_the_second_until_it_ends():
    fake = LateWakeUps(every=3, lag=0.4, latency=0.2)
    limiter = RateLimiter(
        Limits(per_second=10, per_chat_per_second=100), now=fake.clock, sleep=fake.sleep
    )
    await fake.run(limiter, range(80))
    assert len(fake.sends) == 80
    assert most_in_one_second(fake.sends) <= 10
