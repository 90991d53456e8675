"""The account's working hours: when claim timers run and digests go out.

Hours are local to the account's zone; `work_start` is inclusive and `work_end` exclusive, and
`work_days` holds ISO weekday digits ("12345" = Monday to Friday).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Hours(Protocol):
    """What the working-time rules read: an `Account`, or the `WorkHours` an actor carries."""

    timezone: str
    work_start: int
    work_end: int
    work_days: str
    claim_minutes: int


@dataclass(frozen=True, slots=True)
class WorkHours:
    """The account's hours and claim time as read with the member on each update
    (core.members.access), so a list or the board marks late orders without reading the
    account again."""

    timezone: str
    work_start: int
    work_end: int
    work_days: str
    claim_minutes: int

    @classmethod
    def of(cls, source: Hours) -> WorkHours:
        return cls(
            source.timezone,
            source.work_start,
            source.work_end,
            source.work_days,
            source.claim_minutes,
        )


def working_day(account: Hours, day: date) -> bool:
    return str(day.isoweekday()) in account.work_days


def is_open(account: Hours, moment: datetime) -> bool:
    """Whether `moment` (aware) falls in the account's working hours."""
    local = moment.astimezone(ZoneInfo(account.timezone))
    return working_day(account, local.date()) and account.work_start <= local.hour < (
        account.work_end
    )


def _opening(account: Hours, day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(account.timezone)
    start = datetime.combine(day, time(account.work_start), zone)
    end = datetime.combine(day, time(account.work_end), zone)
    return start, end


def working_time_between(account: Hours, start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) falls in working hours: the claim clock stops outside them."""
    if end <= start:
        return timedelta(0)
    zone = ZoneInfo(account.timezone)
    total = timedelta(0)
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if working_day(account, day):
            opens, closes = _opening(account, day)
            total += max(timedelta(0), min(closes, end) - max(opens, start))
        day += timedelta(days=1)
    return total


def working_seconds(account: Hours, start: datetime, end: datetime) -> int:
    """`working_time_between` in whole seconds (rounded down): an order's wait for its claim as
    stored when it is first taken into work (`orders.claim_wait_seconds`)."""
    return working_time_between(account, start, end) // timedelta(seconds=1)


def after_working_time(account: Hours, start: datetime, span: timedelta) -> datetime | None:
    """The moment `span` of working time has passed since `start` (None: no working days)."""
    if not account.work_days or account.work_start >= account.work_end:
        return None
    zone = ZoneInfo(account.timezone)
    weekly = timedelta(hours=account.work_end - account.work_start) * len(set(account.work_days))
    left = span
    day = start.astimezone(zone).date()
    for _ in range(7 * (span // weekly + 2)):
        if working_day(account, day):
            opens, closes = _opening(account, day)
            begin = max(opens, start)
            if begin < closes:
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
        day += timedelta(days=1)
    return None
