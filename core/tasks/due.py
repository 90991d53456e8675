"""Due times as people type them, in Russian or English, read in the account's time zone.

    завтра · tomorrow 15:00 · послезавтра утром · сегодня вечером · today 18:00 · 18.00 · at 6pm
    в пятницу · on friday 10:00 · через 2 часа · через час · in 30 minutes · in 3 days
    25.12 · 25.12 10:00 · 25.12.2026 18:00 · 2026-12-25 10:00 · Dec 25 · 25 декабря
    +30m · +2h · +3d (+30м, +2ч, +3д)

The due may stand anywhere in a task's line ("Позвонить в пятницу клиенту"); only its words
leave the text. A preposition before it (в, во, на, к, до, at, on, by) goes with it. A day
without a time is the morning hour; "today" alone, once the morning has passed, the evening
hour; "утром"/"вечером" (morning/evening) are those hours, which the account configures. A
date without a year is its nearest occurrence; a weekday the next one (today's if still ahead).
Days keep the local clock time across a DST change; minutes and hours are exact. A local time
that does not exist (the hour skipped in spring) is read with the offset before the change.
A time in the past ("вчера 10:00") is refused, never moved.

dateparser's search was tried first: it misses 25.12, 18.00 and "at 18.00", so the rules stay
here, small and tested by the case table in tests/core/test_tasks_due.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.errors import InvalidInput

MAX_AHEAD = timedelta(days=5 * 366)
SHOWN = "%d.%m.%Y %H:%M"  # how a refused time is quoted back (the bot's format)


@dataclass(frozen=True, slots=True)
class DayHours:
    """What "утром"/"вечером" (and a day without a time) mean, per account."""

    morning: int = 9
    evening: int = 19


DEFAULT_HOURS = DayHours()

_DAYS = {
    "вчера": -1,
    "yesterday": -1,
    "сегодня": 0,
    "today": 0,
    "завтра": 1,
    "tomorrow": 1,
    "послезавтра": 2,
}
_WEEKDAYS = {
    **dict.fromkeys(("понедельник", "monday"), 0),
    **dict.fromkeys(("вторник", "tuesday"), 1),
    **dict.fromkeys(("среду", "среда", "wednesday"), 2),
    **dict.fromkeys(("четверг", "thursday"), 3),
    **dict.fromkeys(("пятницу", "пятница", "friday"), 4),
    **dict.fromkeys(("субботу", "суббота", "saturday"), 5),
    **dict.fromkeys(("воскресенье", "sunday"), 6),
}
_MONTHS = {
    **dict.fromkeys(("jan", "january", "янв", "января"), 1),
    **dict.fromkeys(("feb", "february", "фев", "февраля"), 2),
    **dict.fromkeys(("mar", "march", "мар", "марта"), 3),
    **dict.fromkeys(("apr", "april", "апр", "апреля"), 4),
    **dict.fromkeys(("may", "мая"), 5),
    **dict.fromkeys(("jun", "june", "июн", "июня"), 6),
    **dict.fromkeys(("jul", "july", "июл", "июля"), 7),
    **dict.fromkeys(("aug", "august", "авг", "августа"), 8),
    **dict.fromkeys(("sep", "sept", "september", "сен", "сентября"), 9),
    **dict.fromkeys(("oct", "october", "окт", "октября"), 10),
    **dict.fromkeys(("nov", "november", "ноя", "ноября"), 11),
    **dict.fromkeys(("dec", "december", "дек", "декабря"), 12),
}
_PARTS = {"утром": "morning", "morning": "morning", "вечером": "evening", "evening": "evening"}
_UNITS = {
    **dict.fromkeys(
        ("m", "min", "mins", "minute", "minutes", "м", "мин", "минут", "минуты", "минуту"),
        "minutes",
    ),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "ч", "час", "часа", "часов"), "hours"),
    **dict.fromkeys(("d", "day", "days", "д", "дн", "день", "дня", "дней", "сутки"), "days"),
    **dict.fromkeys(("week", "weeks", "неделю", "недели", "недель"), "weeks"),
}
_PREPS = ("в", "во", "на", "к", "до", "at", "on", "by")
# Prepositions after which "10.30" is a clock time, not the 10th of March.
_AT_PREPS = ("в", "во", "к", "at", "by")


def _alt(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_TOKEN = re.compile(
    "|".join(
        (
            r"(?P<plus>\+\s*(?P<pn>\d{1,5})\s*(?P<pu>[a-zа-яё]{1,7}))",
            r"(?P<half>через\s+полчаса|in\s+half\s+an\s+hour)",
            rf"(?P<rel>(?:через|in)\s+(?:(?P<rn>\d{{1,5}})\s+|an?\s+)?(?P<ru>{_alt(_UNITS)}))",
            r"(?P<iso>(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
            r"(?:t(?P<ih>\d{1,2}):(?P<imin>\d{2}))?)",
            r"(?P<dmy>(?P<dd>\d{1,2})\.(?P<dm>\d{1,2})\.(?P<dy>\d{4}))",
            r"(?P<dot>(?P<a>\d{2})\.(?P<b>\d{2}))",
            r"(?P<ampm>(?P<ah>\d{1,2})(?::(?P<amin>\d{2}))?\s*(?P<ap>am|pm))",
            r"(?P<clock>(?P<ch>\d{1,2}):(?P<cmin>\d{2}))",
            rf"(?P<dmon>(?P<nd>\d{{1,2}})\s+(?P<nm>{_alt(_MONTHS)})\.?(?:\s+(?P<ny>\d{{4}}))?)",
            rf"(?P<mond>(?P<mm>{_alt(_MONTHS)})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?"
            rf"(?:,?\s+(?P<my>\d{{4}}))?)",
            rf"(?P<day>{_alt(_DAYS)})",
            rf"(?P<wday>{_alt(_WEEKDAYS)})",
            rf"(?P<part>(?:in\s+the\s+)?(?P<pw>{_alt(_PARTS)}))",
            rf"(?P<prep>{_alt(_PREPS)})",
        )
    ),
    re.IGNORECASE,
)
# A token ends at the end of the line, a space, or punctuation that is not part of a number.
_END = re.compile(r"$|\s|[,;!?)»\"]|[.:](?!\d)")
_START = re.compile(r"(?:^|(?<=[\s(«\"]))")
# A last word that can only be meant as a due, e.g. a mistyped '+2x': refused, not taken as text.
_DUE_LIKE = re.compile(r"^\+\d")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    match: re.Match
    start: int
    end: int

    def __getitem__(self, group: str) -> str | None:
        return self.match[group]


def _tokens(line: str) -> list[_Token]:
    found: list[_Token] = []
    for word in re.finditer(r"\S+", line):
        if found and word.start() < found[-1].end:
            continue  # inside the previous token ("через 2 часа")
        match = _TOKEN.match(line, word.start())
        if match is None or not _END.match(line, match.end()):
            continue
        found.append(_Token(match.lastgroup or "", match, match.start(), match.end()))
    return found


def _runs(line: str) -> list[list[_Token]]:
    """Tokens next to each other (only spaces between), without trailing prepositions and
    without runs of prepositions alone."""
    runs: list[list[_Token]] = []
    for token in _tokens(line):
        if runs and not line[runs[-1][-1].end : token.start].strip():
            runs[-1].append(token)
        else:
            runs.append([token])
    cleaned = []
    for run in runs:
        while run and run[-1].kind == "prep":
            run.pop()
        if any(t.kind != "prep" for t in run):
            cleaned.append(run)
    return cleaned


def _normal(text: str) -> str:
    return " ".join(text.split())


def _whole(text: str) -> list[_Token] | None:
    """The tokens of `text` if it is nothing but a due."""
    normal = _normal(text)
    runs = _runs(normal)
    if len(runs) != 1 or runs[0][0].start != 0 or runs[0][-1].end != len(normal):
        return None
    return runs[0]


def is_due(text: str) -> bool:
    """Whether `text` has the shape of a due time (its values may still be impossible)."""
    return _whole(text) is not None


def bad_format(text: str) -> InvalidInput:
    return InvalidInput("due_format", value=" ".join(text.split())[:40])


def add_days(moment: datetime, days: int, timezone: str) -> datetime:
    """`days` later at the same local clock time (across a DST change too)."""
    zone = ZoneInfo(timezone)
    wall = moment.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _too_far() -> InvalidInput:
    return InvalidInput("due_too_far", years=5)


def _relative(amount: int, unit: str | None, now: datetime, timezone: str, raw: str) -> datetime:
    unit = _UNITS.get((unit or "").lower())
    if unit is None:
        raise bad_format(raw)
    if unit in ("days", "weeks"):
        days = amount * (7 if unit == "weeks" else 1)
        if days > MAX_AHEAD.days:
            raise _too_far()
        return add_days(now, days, timezone)
    delta = timedelta(**{unit: amount})
    if delta > MAX_AHEAD:
        raise _too_far()
    return now + delta


def _clock(hour: int, minute: int, raw: str) -> time:
    try:
        return time(hour, minute)
    except ValueError:
        raise bad_format(raw) from None


def _date(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise bad_format(raw) from None


def _nearest(month: int, day: int, at: time, local_now: datetime, raw: str) -> date:
    """A date without a year: the occurrence nearest to now (25.12 typed on 30.12 is last
    week's, 05.01 typed on 30.12 is next week's)."""
    candidates = []
    for year in (local_now.year - 1, local_now.year, local_now.year + 1):
        try:
            candidates.append(datetime.combine(date(year, month, day), at, local_now.tzinfo))
        except ValueError:
            continue
    if not candidates:
        raise bad_format(raw)
    return min(candidates, key=lambda c: abs(c - local_now)).date()


@dataclass
class _Reading:
    day: date | None = None
    yearless: tuple[int, int] | None = None  # (month, day)
    weekday: int | None = None
    at: time | None = None
    part: str | None = None

    def set_day(self, raw: str, **values) -> None:
        if self.day or self.yearless or self.weekday is not None:
            raise bad_format(raw)
        for key, value in values.items():
            setattr(self, key, value)

    def set_time(self, raw: str, at: time | None = None, part: str | None = None) -> None:
        if self.at or self.part:
            raise bad_format(raw)
        self.at, self.part = at, part


def _read(tokens: list[_Token], local_now: datetime, raw: str) -> _Reading:
    reading = _Reading()
    previous = ""
    for token in tokens:
        kind = token.kind
        if kind == "prep":
            pass
        elif kind == "day":
            offset = _DAYS[token["day"].lower()]
            reading.set_day(raw, day=local_now.date() + timedelta(days=offset))
        elif kind == "wday":
            reading.set_day(raw, weekday=_WEEKDAYS[token["wday"].lower()])
        elif kind == "iso":
            day = _date(int(token["iy"]), int(token["im"]), int(token["id"]), raw)
            reading.set_day(raw, day=day)
            if token["ih"] is not None:
                reading.set_time(raw, _clock(int(token["ih"]), int(token["imin"]), raw))
        elif kind == "dmy":
            day = _date(int(token["dy"]), int(token["dm"]), int(token["dd"]), raw)
            reading.set_day(raw, day=day)
        elif kind in ("dmon", "mond"):
            d, m, y = ("nd", "nm", "ny") if kind == "dmon" else ("md", "mm", "my")
            month = _MONTHS[token[m].lower()]
            if token[y] is None:
                reading.set_day(raw, yearless=(month, int(token[d])))
            else:
                reading.set_day(raw, day=_date(int(token[y]), month, int(token[d]), raw))
        elif kind == "dot":
            a, b = int(token["a"]), int(token["b"])
            has_day = reading.day or reading.yearless or reading.weekday is not None
            as_time = previous in _AT_PREPS or has_day or not (1 <= a <= 31 and 1 <= b <= 12)
            if as_time:
                reading.set_time(raw, _clock(a, b, raw))
            else:
                reading.set_day(raw, yearless=(b, a))
        elif kind == "clock":
            reading.set_time(raw, _clock(int(token["ch"]), int(token["cmin"]), raw))
        elif kind == "ampm":
            hour = int(token["ah"])
            if not 1 <= hour <= 12:
                raise bad_format(raw)
            hour = hour % 12 + (12 if token["ap"].lower() == "pm" else 0)
            reading.set_time(raw, _clock(hour, int(token["amin"] or 0), raw))
        elif kind == "part":
            reading.set_time(raw, part=_PARTS[token["pw"].lower()])
        else:  # a relative time among other words
            raise bad_format(raw)
        previous = token.match.group().lower()
    return reading


def _local(day: date, at: time, zone) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def _absolute(reading: _Reading, local_now: datetime, hours: DayHours, raw: str) -> datetime:
    zone = local_now.tzinfo
    today = local_now.date()
    morning, evening = time(hours.morning), time(hours.evening)
    at = reading.at or (evening if reading.part == "evening" else morning)
    if reading.yearless is not None:
        month, day_n = reading.yearless
        return _local(_nearest(month, day_n, at, local_now, raw), at, zone)
    if reading.weekday is not None:
        day = today + timedelta(days=(reading.weekday - today.weekday()) % 7)
        if _local(day, at, zone) <= local_now:
            day += timedelta(days=7)
        return _local(day, at, zone)
    if reading.day is not None:
        bare_today = reading.at is None and reading.part is None and reading.day == today
        if bare_today and _local(today, morning, zone) <= local_now:
            at = evening  # "today" once the morning has passed: this evening
        return _local(reading.day, at, zone)
    if reading.part is not None and _local(today, at, zone) <= local_now:
        return _local(today + timedelta(days=1), at, zone)  # "утром" at noon: tomorrow's
    return _local(today, at, zone)


def parse_due(text: str, now: datetime, timezone: str, hours: DayHours = DEFAULT_HOURS) -> datetime:
    """The due time (aware UTC) `text` means for a member in `timezone` at `now`.

    Raises InvalidInput: due_format (with the text), due_past (with the local time it read),
    due_too_far."""
    tokens = _whole(text)
    if tokens is None:
        raise bad_format(text)
    first = tokens[-1] if len(tokens) == 1 else None
    if first is not None and first.kind in ("plus", "rel", "half"):
        if first.kind == "half":
            due = now + timedelta(minutes=30)
        elif first.kind == "plus":
            due = _relative(int(first["pn"]), first["pu"], now, timezone, text)
        else:
            due = _relative(int(first["rn"] or 1), first["ru"], now, timezone, text)
    else:
        local_now = now.astimezone(ZoneInfo(timezone))
        reading = _read(tokens, local_now, text)
        due = _absolute(reading, local_now, hours, text).astimezone(UTC)
    check_future(due, now, timezone)
    return due


def check_future(due: datetime, now: datetime, timezone: str) -> None:
    if due <= now:
        raise InvalidInput("due_past", when=due.astimezone(ZoneInfo(timezone)).strftime(SHOWN))
    if due - now > MAX_AHEAD:
        raise _too_far()


@dataclass(frozen=True, slots=True)
class Split:
    text: str
    due: str | None  # the words that name the due time


def split_due(line: str) -> Split:
    """'Позвонить в пятницу клиенту' → text 'Позвонить клиенту', due 'в пятницу'.

    The due is the last run of due words in the line (with a preposition before it); only
    those words leave the text. A last word starting with '+' and a digit is always read as a
    due."""
    runs = _runs(line)
    if runs:
        run = runs[-1]
        start, end = run[0].start, run[-1].end  # a preposition before it is in the run
        head, tail = line[:start].rstrip(" \t"), line[end:].lstrip(" \t")
        tail = tail.lstrip(",;") if not head else tail
        text = f"{head} {tail}" if head and tail and tail[0] not in ",.;!?" else head + tail
        return Split(text.strip(), " ".join(line[start:end].split()))
    words = line.split()
    if words and _DUE_LIKE.match(words[-1]):
        raise bad_format(words[-1])
    return Split(line.strip(), None)
