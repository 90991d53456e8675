"""Due times as people type them: both languages, several zones, DST, and the refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.errors import InvalidInput
from core.tasks.due import DayHours, Split, parse_due, split_due
from tests.conftest import T0  # Sunday 22.11.2026, 12:00 in Moscow

MSK = "Europe/Moscow"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("завтра 15:00", utc(2026, 11, 23, 12)),
        ("tomorrow 15:00", utc(2026, 11, 23, 12)),
        ("Завтра в 15:00", utc(2026, 11, 23, 12)),
        ("tomorrow at 9:30", utc(2026, 11, 23, 6, 30)),
        ("послезавтра 10:00", utc(2026, 11, 24, 7)),
        ("сегодня 18:00", utc(2026, 11, 22, 15)),
        ("today 18:00", utc(2026, 11, 22, 15)),
        ("18:00", utc(2026, 11, 22, 15)),
        ("в 18:00", utc(2026, 11, 22, 15)),
        ("25.12 10:00", utc(2026, 12, 25, 7)),
        ("25.12.2026 10:00", utc(2026, 12, 25, 7)),
        ("05.01 09:00", utc(2027, 1, 5, 6)),  # no year: the nearest 5 January
        ("2026-12-25 10:00", utc(2026, 12, 25, 7)),
        ("2026-12-25T10:00", utc(2026, 12, 25, 7)),
        ("+2h", utc(2026, 11, 22, 11)),
        ("+2ч", utc(2026, 11, 22, 11)),
        ("+ 2 часа", utc(2026, 11, 22, 11)),
        ("+3d", utc(2026, 11, 25, 9)),
        ("+3д", utc(2026, 11, 25, 9)),
        ("+3 дня", utc(2026, 11, 25, 9)),
        ("+30m", utc(2026, 11, 22, 9, 30)),
        ("+30 мин", utc(2026, 11, 22, 9, 30)),
        ("  TOMORROW   15:00 ", utc(2026, 11, 23, 12)),
    ],
)
def test_what_people_type_in_moscow(text, expected):
    assert parse_due(text, T0, MSK) == expected


@pytest.mark.parametrize(
    ("zone", "text", "expected"),
    [
        # 19:00 on the 22nd in Vladivostok (UTC+10)
        ("Asia/Vladivostok", "завтра 15:00", utc(2026, 11, 23, 5)),
        ("Asia/Vladivostok", "today 20:00", utc(2026, 11, 22, 10)),
        # 04:00 on the 22nd in New York (UTC−5)
        ("America/New_York", "tomorrow 15:00", utc(2026, 11, 23, 20)),
        ("America/New_York", "сегодня 05:00", utc(2026, 11, 22, 10)),
        # 23:00 on the 22nd at UTC+14: "tomorrow" is already the 23rd there
        ("Pacific/Kiritimati", "tomorrow 10:00", utc(2026, 11, 22, 20)),
        ("UTC", "2026-12-25 10:00", utc(2026, 12, 25, 10)),
    ],
)
def test_local_time_is_the_accounts_zone(zone, text, expected):
    assert parse_due(text, T0, zone) == expected


def test_today_is_the_local_day_not_the_utc_one():
    """At 23:00 local (UTC+14) 'today 22:00' has passed, though in UTC it is 09:00."""
    with pytest.raises(InvalidInput) as err:
        parse_due("today 22:00", T0, "Pacific/Kiritimati")
    assert err.value.code == "due_past" and err.value.params["when"] == "22.11.2026 22:00"


def test_days_keep_the_clock_time_across_dst_and_hours_do_not():
    berlin = "Europe/Berlin"
    now = utc(2026, 10, 24, 8)  # Saturday 10:00 CEST; clocks go back on Sunday 03:00 → 02:00
    assert parse_due("+1d", now, berlin) == utc(2026, 10, 25, 9)  # 10:00 CET, 25 hours on
    assert parse_due("завтра 10:00", now, berlin) == utc(2026, 10, 25, 9)
    assert parse_due("+24h", now, berlin) == utc(2026, 10, 25, 8)  # exactly 24 hours: 09:00 CET
    # 02:30 happens twice that night: the first one (CEST) is meant
    assert parse_due("25.10 02:30", now, berlin) == utc(2026, 10, 25, 0, 30)


def test_a_skipped_local_time_becomes_a_real_moment():
    new_york = "America/New_York"
    now = utc(2027, 3, 13, 17)  # Saturday noon EST; on Sunday 02:00 jumps to 03:00
    due = parse_due("tomorrow 02:30", now, new_york)
    assert due == utc(2027, 3, 14, 7, 30)  # read at −5: 03:30 EDT, the moment exists
    assert parse_due("tomorrow 12:00", now, new_york) == utc(2027, 3, 14, 16)  # EDT, −4


def test_a_date_without_year_is_the_nearest_one():
    now = utc(2026, 12, 30, 9)
    assert parse_due("05.01 10:00", now, MSK) == utc(2027, 1, 5, 7)
    with pytest.raises(InvalidInput) as err:
        parse_due("25.12 10:00", now, MSK)  # five days ago, not next Christmas
    assert err.value.code == "due_past"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("вчера 10:00", "due_past"),
        ("yesterday", "due_past"),
        ("завтра завтра", "due_format"),
        ("18:00 19:00", "due_format"),
        ("когда-нибудь", "due_format"),
        ("next week", "due_format"),
        ("31.02 10:00", "due_format"),
        ("25.13 10:00", "due_format"),
        ("2026-02-30 10:00", "due_format"),
        ("завтра 25:00", "due_format"),
        ("завтра 15:60", "due_format"),
        ("+2x", "due_format"),
        ("+h", "due_format"),
        ("", "due_format"),
        ("21.11 10:00", "due_past"),
        ("2026-11-22 11:59", "due_past"),
        ("сегодня 12:00", "due_past"),  # exactly now
        ("+0h", "due_past"),
        ("+9999d", "due_too_far"),
        ("2040-01-01 10:00", "due_too_far"),
    ],
)
def test_anything_else_is_refused_with_a_reason(text, code):
    with pytest.raises(InvalidInput) as err:
        parse_due(text, T0, MSK)
    assert err.value.code == code


def test_the_refusal_quotes_what_was_typed_and_the_past_time_read():
    with pytest.raises(InvalidInput) as err:
        parse_due("  когда   будет ", T0, MSK)
    assert err.value.params == {"value": "когда будет"}
    with pytest.raises(InvalidInput) as err:
        parse_due("21.11 10:00", T0, MSK)
    assert err.value.params == {"when": "21.11.2026 10:00"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Позвонить клиенту завтра 15:00", Split("Позвонить клиенту", "завтра 15:00")),
        ("Call the customer tomorrow at 15:00", Split("Call the customer", "tomorrow at 15:00")),
        ("Купить 2 коробки 25.12 10:00", Split("Купить 2 коробки", "25.12 10:00")),
        ("Отправить счёт +2h", Split("Отправить счёт", "+2h")),
        ("Отправить счёт + 2 ч", Split("Отправить счёт", "+ 2 ч")),
        ("Перезвонить в 18:00", Split("Перезвонить", "в 18:00")),
        ("Сверить\nадрес 2026-12-25 10:00", Split("Сверить\nадрес", "2026-12-25 10:00")),
        ("Обновить прошивку до 2.10", Split("Обновить прошивку до 2.10", None)),
        ("Узнать, будет ли доставка завтра", Split("Узнать, будет ли доставка", "завтра")),
        ("Позвонить 31.02 10:00", Split("Позвонить", "31.02 10:00")),  # refused by parse_due
        ("завтра 15:00", Split("", "завтра 15:00")),
        ("", Split("", None)),
    ],
)
def test_the_due_is_recognised_at_the_end_of_the_line(line, expected):
    assert split_due(line) == expected


def test_a_mistyped_offset_at_the_end_is_not_taken_for_text():
    assert split_due("Позвонить +2x") == Split("Позвонить", "+2x")
    with pytest.raises(InvalidInput) as err:
        split_due("Позвонить +2")
    assert err.value.code == "due_format"


# ---- the case table of issue #21: what shops type, and what must come out --------------------
# T0 is Sunday 22.11.2026 12:00 in Moscow; morning 09:00 and evening 19:00 unless the account
# says otherwise.


@pytest.mark.parametrize(
    ("line", "text", "due", "expected"),
    [
        ("Позвонить завтра", "Позвонить", "завтра", utc(2026, 11, 23, 6)),
        ("Call tomorrow", "Call", "tomorrow", utc(2026, 11, 23, 6)),
        ("Позвонить послезавтра", "Позвонить", "послезавтра", utc(2026, 11, 24, 6)),
        ("Позвонить сегодня", "Позвонить", "сегодня", utc(2026, 11, 22, 16)),  # past 09:00
        ("Позвонить через 2 часа", "Позвонить", "через 2 часа", utc(2026, 11, 22, 11)),
        ("Позвонить через час", "Позвонить", "через час", utc(2026, 11, 22, 10)),
        ("Позвонить через 30 минут", "Позвонить", "через 30 минут", utc(2026, 11, 22, 9, 30)),
        ("Позвонить через 3 дня", "Позвонить", "через 3 дня", utc(2026, 11, 25, 9)),
        ("Call in 2 hours", "Call", "in 2 hours", utc(2026, 11, 22, 11)),
        ("Call in an hour", "Call", "in an hour", utc(2026, 11, 22, 10)),
        ("Ship in 3 days", "Ship", "in 3 days", utc(2026, 11, 25, 9)),
        ("Позвонить в пятницу", "Позвонить", "в пятницу", utc(2026, 11, 27, 6)),
        ("Позвонить в пятницу клиенту", "Позвонить клиенту", "в пятницу", utc(2026, 11, 27, 6)),
        ("Call on friday", "Call", "on friday", utc(2026, 11, 27, 6)),
        ("Call on Sunday", "Call", "on Sunday", utc(2026, 11, 29, 6)),  # today's 09:00 passed
        ("Позвонить в пятницу в 18:00", "Позвонить", "в пятницу в 18:00", utc(2026, 11, 27, 15)),
        ("Позвонить 25.12", "Позвонить", "25.12", utc(2026, 12, 25, 6)),
        ("Позвонить 25.12 18:00", "Позвонить", "25.12 18:00", utc(2026, 12, 25, 15)),
        ("Позвонить 25.12.2026 18:00", "Позвонить", "25.12.2026 18:00", utc(2026, 12, 25, 15)),
        ("Позвонить 25.12.2026", "Позвонить", "25.12.2026", utc(2026, 12, 25, 6)),
        ("Call Dec 25", "Call", "Dec 25", utc(2026, 12, 25, 6)),
        ("Call December 25 at 10:00", "Call", "December 25 at 10:00", utc(2026, 12, 25, 7)),
        ("Позвонить 25 декабря", "Позвонить", "25 декабря", utc(2026, 12, 25, 6)),
        ("Позвонить 18.00", "Позвонить", "18.00", utc(2026, 11, 22, 15)),
        ("call at 18.00", "call", "at 18.00", utc(2026, 11, 22, 15)),
        ("call at 6pm", "call", "at 6pm", utc(2026, 11, 22, 15)),
        ("Позвонить в 18:00", "Позвонить", "в 18:00", utc(2026, 11, 22, 15)),
        ("Позвонить завтра утром", "Позвонить", "завтра утром", utc(2026, 11, 23, 6)),
        ("Позвонить вечером", "Позвонить", "вечером", utc(2026, 11, 22, 16)),
        ("Позвонить утром", "Позвонить", "утром", utc(2026, 11, 23, 6)),  # today's passed
        ("Call tomorrow evening", "Call", "tomorrow evening", utc(2026, 11, 23, 16)),
        ("Call tomorrow in the morning", "Call", "tomorrow in the morning", utc(2026, 11, 23, 6)),
        ("Купить 2 шт по 18:00", "Купить 2 шт по", "18:00", utc(2026, 11, 22, 15)),
        ("Отвезти 3 шт завтра 10:00", "Отвезти 3 шт", "завтра 10:00", utc(2026, 11, 23, 7)),
        ("Обновить прошивку до 2.10", "Обновить прошивку до 2.10", None, None),
        ("Позвонить в 2 раза чаще", "Позвонить в 2 раза чаще", None, None),
    ],
)
def test_the_case_table(line, text, due, expected):
    split = split_due(line)
    assert split == Split(text, due)
    if due is not None:
        assert parse_due(split.due, T0, MSK) == expected


def test_yesterday_is_refused_not_moved_to_today():
    split = split_due("Позвонить вчера 10:00")
    assert split == Split("Позвонить", "вчера 10:00")
    with pytest.raises(InvalidInput) as err:
        parse_due(split.due, T0, MSK)
    assert err.value.code == "due_past" and err.value.params["when"] == "21.11.2026 10:00"


def test_morning_and_evening_are_the_accounts_hours():
    hours = DayHours(morning=8, evening=20)
    assert parse_due("завтра утром", T0, MSK, hours) == utc(2026, 11, 23, 5)
    assert parse_due("вечером", T0, MSK, hours) == utc(2026, 11, 22, 17)
    assert parse_due("tomorrow", T0, MSK, hours) == utc(2026, 11, 23, 5)
