"""Due times as people type them, in Russian or English, read in the account's time zone.

    завтра 15:00 · tomorrow 15:00 · сегодня 18:00 · today 18:00 · 15:00 (today)
    25.12 10:00 · 25.12.2026 10:00 · 2026-12-25 10:00 · +30m · +2h · +3d (+30м, +2ч, +3д)

"в"/"at" may stand before the time. A date without a year is its nearest occurrence. Days (+3d,
tomorrow) keep the local clock time across a DST change; minutes and hours are exact. A local
time that does not exist (the hour skipped in spring) is read with the offset before the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.errors import InvalidInput

MAX_AHEAD = timedelta(days=5 * 366)
SHOWN = "%d.%m.%Y %H:%M"  # how a refused time is quoted back (the bot's format)

_AT = r"(?:(?:at|в|во)\s+)?"
_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})"
_DAYS = {"today": 0, "сегодня": 0, "tomorrow": 1, "завтра": 1, "послезавтра": 2}
_UNITS = {
    **dict.fromkeys(("m", "min", "mins", "м", "мин", "минут", "минуты", "минуту"), "minutes"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "ч", "час", "часа", "часов"), "hours"),
    **dict.fromkeys(("d", "day", "days", "д", "дн", "день", "дня", "дней"), "days"),
}
_RELATIVE = re.compile(r"^\+\s*(?P<n>\d{1,5})\s*(?P<unit>[a-zа-яё]{1,7})$")
_DAY_WORD = re.compile(rf"^(?P<word>{'|'.join(_DAYS)})\s+{_AT}{_TIME}$")
_TIME_ONLY = re.compile(rf"^{_AT}{_TIME}$")
_DOTTED = re.compile(
    rf"^(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})(?:\.(?P<year>\d{{4}}))?\s+{_AT}{_TIME}$"
)
_ISO = re.compile(rf"^(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})(?:\s+|t){_TIME}$")
_FORMS = (_RELATIVE, _DAY_WORD, _TIME_ONLY, _DOTTED, _ISO)
# A last word that can only be meant as a due, e.g. a mistyped '+2x': refused, not taken as text.
_DUE_LIKE = re.compile(r"^\+\d")


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def is_due(text: str) -> bool:
    """Whether `text` has the shape of a due time (its values may still be impossible)."""
    text = _normal(text)
    return bool(text) and any(form.match(text) for form in _FORMS)


def bad_format(text: str) -> InvalidInput:
    return InvalidInput("due_format", value=" ".join(text.split())[:40])


def _local(day: date, hour: str, minute: str, zone: ZoneInfo, raw: str) -> datetime:
    try:
        return datetime.combine(day, time(int(hour), int(minute)), tzinfo=zone)
    except ValueError:
        raise bad_format(raw) from None


def add_days(moment: datetime, days: int, timezone: str) -> datetime:
    """`days` later at the same local clock time (across a DST change too)."""
    zone = ZoneInfo(timezone)
    wall = moment.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _relative(match: re.Match, now: datetime, timezone: str, raw: str) -> datetime:
    unit = _UNITS.get(match["unit"])
    if unit is None:
        raise bad_format(raw)
    amount = int(match["n"])
    if unit == "days":
        if amount > MAX_AHEAD.days:
            raise InvalidInput("due_too_far", years=5)
        return add_days(now, amount, timezone)
    delta = timedelta(**{unit: amount})
    if delta > MAX_AHEAD:
        raise InvalidInput("due_too_far", years=5)
    return now + delta


def _nearest(day: int, month: int, match: re.Match, local_now: datetime, raw: str) -> datetime:
    """A date without a year: the occurrence nearest to now (25.12 typed on 30.12 is last
    week's, 05.01 typed on 30.12 is next week's)."""
    candidates = []
    for year in (local_now.year - 1, local_now.year, local_now.year + 1):
        try:
            candidates.append(
                _local(
                    date(year, month, day), match["hour"], match["minute"], local_now.tzinfo, raw
                )
            )
        except (ValueError, InvalidInput):
            continue
    if not candidates:
        raise bad_format(raw)
    return min(candidates, key=lambda c: abs(c - local_now))


def _absolute(match: re.Match, local_now: datetime, raw: str) -> datetime:
    zone = local_now.tzinfo
    if match.re is _DAY_WORD:
        day = local_now.date() + timedelta(days=_DAYS[match["word"]])
        return _local(day, match["hour"], match["minute"], zone, raw)
    if match.re is _TIME_ONLY:
        return _local(local_now.date(), match["hour"], match["minute"], zone, raw)
    day_n, month = int(match["day"]), int(match["month"])
    if match["year"] is None:
        return _nearest(day_n, month, match, local_now, raw)
    try:
        day = date(int(match["year"]), month, day_n)
    except ValueError:
        raise bad_format(raw) from None
    return _local(day, match["hour"], match["minute"], zone, raw)


def parse_due(text: str, now: datetime, timezone: str) -> datetime:
    """The due time (aware UTC) `text` means for a member in `timezone` at `now`.

    Raises InvalidInput: due_format (with the text), due_past (with the local time it read),
    due_too_far."""
    normal = _normal(text)
    match = next((m for form in _FORMS if (m := form.match(normal))), None)
    if match is None:
        raise bad_format(text)
    if match.re is _RELATIVE:
        due = _relative(match, now, timezone, text)
    else:
        due = _absolute(match, now.astimezone(ZoneInfo(timezone)), text).astimezone(UTC)
    check_future(due, now, timezone)
    return due


def check_future(due: datetime, now: datetime, timezone: str) -> None:
    if due <= now:
        raise InvalidInput("due_past", when=due.astimezone(ZoneInfo(timezone)).strftime(SHOWN))
    if due - now > MAX_AHEAD:
        raise InvalidInput("due_too_far", years=5)


@dataclass(frozen=True, slots=True)
class Split:
    text: str
    due: str | None  # the words at the end that name the due time


def split_due(line: str) -> Split:
    """'Call the customer tomorrow 15:00' → text 'Call the customer', due 'tomorrow 15:00'.

    The due is recognised at the end of the line: its last one to three words, if they have the
    shape of a due time. A last word starting with '+' and a digit is always read as a due."""
    words = list(re.finditer(r"\S+", line))
    for size in (3, 2, 1):
        if len(words) < size:
            continue
        start = words[-size].start()
        if is_due(line[start:]):
            return Split(line[:start].strip(), " ".join(line[start:].split()))
    if words and _DUE_LIKE.match(words[-1].group()):
        raise bad_format(words[-1].group())
    return Split(line.strip(), None)
