"""Pure pricing rules (docs/guide.md): invoices, calendar months, recalculation, reminders."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.tariff.catalog import Catalog, CatalogError, Tariff, load_catalog, parse_catalog
from core.tariff.pricing import (
    LineKind,
    add_months,
    days_left,
    invoice,
    is_lapsed,
    monthly_cost,
    prepaid_through,
    recalculated,
    reminder_due,
    reprice,
)

CATALOG = load_catalog()
START, STANDARD, BUSINESS, PREMIUM = (CATALOG.tariff(c) for c in CATALOG.codes().split(", "))
TODAY = date(2026, 11, 22)


def test_builtin_catalog_is_the_documented_one():
    assert [(t.code, t.monthly_price, t.free_users) for t in CATALOG.tariffs] == [
        ("start", 150000, 2),
        ("standard", 300000, 3),
        ("business", 600000, 5),
        ("premium", 1200000, 10),
    ]
    assert (STANDARD.name("ru"), STANDARD.name("en")) == ("Стандартный", "Standard")
    assert CATALOG.extra_user_price == 38000
    assert CATALOG.discounts == {3: 5, 6: 10, 12: 15}
    assert CATALOG.periods == (1, 3, 6, 12)
    assert CATALOG.reminder_days == (7, 3, 1)


def test_unknown_tariff_names_the_known_ones():
    with pytest.raises(InvalidInput) as err:
        CATALOG.tariff("gold")
    assert err.value.code == "tariff_unknown"
    assert err.value.params == {"tariff": "gold", "known": "start, standard, business, premium"}
    assert CATALOG.tariff(" Standard ") is STANDARD


# --- The three worked examples of the tariff rules, to the kopeck -----------------------------


def test_standard_one_month_four_members():
    bill = invoice(CATALOG, STANDARD, members=4, months=1)
    assert [(line.kind, line.quantity, line.amount) for line in bill.lines] == [
        (LineKind.TARIFF, 1, 300000),
        (LineKind.EXTRA_USERS, 1, 38000),
    ]
    assert (bill.subtotal, bill.discount, bill.total) == (338000, 0, 338000)  # 3 380,00 ₽


def test_standard_twelve_months_four_members():
    bill = invoice(CATALOG, STANDARD, members=4, months=12)
    assert bill.subtotal == 4056000  # (3 000 + 380) × 12 = 40 560
    assert bill.discount_percent == 15
    assert [line.discount for line in bill.lines] == [540000, 68400]
    assert bill.discount == 608400  # 6 084
    assert bill.total == 3447600  # 34 476,00 ₽


def test_start_three_months_five_members():
    bill = invoice(CATALOG, START, members=5, months=3)
    assert bill.extra_users == 3
    assert [line.amount for line in bill.lines] == [450000, 342000]  # 4 500 + 3 × 380 × 3
    assert bill.subtotal == 792000  # 7 920
    assert bill.discount == 39600  # 396
    assert bill.total == 752400  # 7 524,00 ₽


# --- Invoice edges ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tariff", "members", "extra"),
    [
        (STANDARD, 1, 0),
        (STANDARD, 3, 0),  # the last free seat
        (STANDARD, 4, 1),  # the first paid one
        (START, 2, 0),
        (START, 3, 1),
        (BUSINESS, 5, 0),
        (PREMIUM, 10, 0),
        (PREMIUM, 11, 1),
        (START, 42, 40),  # many seats at once
    ],
)
def test_extra_users_start_after_the_free_ones(tariff, members, extra):
    bill = invoice(CATALOG, tariff, members, 1)
    assert bill.extra_users == extra
    assert (
        bill.total == tariff.monthly_price + extra * 38000 == monthly_cost(CATALOG, tariff, members)
    )


def test_premium_six_months_many_seats():
    bill = invoice(CATALOG, PREMIUM, members=25, months=6)
    assert [line.amount for line in bill.lines] == [7200000, 15 * 38000 * 6]
    assert bill.discount == 720000 + 342000
    assert bill.total == 7200000 + 3420000 - 1062000


def test_discount_is_rounded_half_up_once_per_line():
    tiny = Catalog(
        tariffs=(Tariff("t", "т", "t", 10, 1),),
        extra_user_price=10,
        discounts={3: Decimal(5)},
        reminder_days=(),
    )
    # Each line: 10 × 3 = 30 kopecks, 5 % = 1.5 → 2. Rounding the 60-kopeck sum would give 3.
    bill = invoice(tiny, tiny.tariff("t"), members=2, months=3)
    assert [line.discount for line in bill.lines] == [2, 2]
    assert (bill.discount, bill.total) == (4, 56)


@pytest.mark.parametrize("months", [0, 2, 4, 24, -1])
def test_only_invoice_periods_are_accepted(months):
    with pytest.raises(InvalidInput) as err:
        invoice(CATALOG, STANDARD, 4, months)
    assert err.value.params == {"allowed": "1, 3, 6, 12"}


# --- Calendar months --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 11, 22), 1, date(2026, 12, 22)),
        (date(2026, 11, 22), 3, date(2027, 2, 22)),  # across the year end
        (date(2027, 1, 31), 1, date(2027, 2, 28)),  # clamped to the month's end
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2027, 3, 31), 1, date(2027, 4, 30)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 12, 31), 12, date(2027, 12, 31)),
        (date(2027, 2, 28), 1, date(2027, 3, 28)),  # the short month's end does not stick
    ],
)
def test_add_months_clamps_to_the_end_of_month(start, months, end):
    assert add_months(start, months) == end


def test_prepayment_extends_a_running_period_and_restarts_a_lapsed_one():
    assert prepaid_through(None, TODAY, 3) == date(2027, 2, 22)
    assert prepaid_through(date(2027, 1, 31), TODAY, 1) == date(2027, 2, 28)
    assert prepaid_through(TODAY, TODAY, 1) == date(2026, 12, 22)  # the paid-through day
    assert prepaid_through(date(2026, 11, 21), TODAY, 1) == date(2026, 12, 22)  # lapsed


def test_days_left_and_lapse():
    assert days_left(None, TODAY) == 0
    assert days_left(TODAY + timedelta(days=120), TODAY) == 120
    assert days_left(TODAY, TODAY) == 0
    assert days_left(TODAY - timedelta(days=5), TODAY) == 0
    assert not is_lapsed(None, TODAY)
    assert not is_lapsed(TODAY, TODAY)  # the paid-through day itself is paid
    assert is_lapsed(TODAY - timedelta(days=1), TODAY)


# --- Paid-through recalculation: today + floor(D × C_old / C_new) -----------------------------


def test_design_example_a_fourth_member_moves_the_date_14_days_earlier():
    paid = TODAY + timedelta(days=120)
    change = reprice(
        CATALOG,
        tariff_before=STANDARD,
        members_before=3,
        tariff_after=STANDARD,
        members_after=4,
        paid_through=paid,
        today=TODAY,
    )
    assert (change.monthly_before, change.monthly_after) == (300000, 338000)
    assert change.paid_through_after == TODAY + timedelta(days=106)  # floor(120 × 3000 / 3380)
    assert (paid - change.paid_through_after).days == 14
    assert change.shortens and change.monthly_delta == 38000


def test_removing_the_paid_seat_lengthens_by_the_same_formula():
    paid = TODAY + timedelta(days=106)
    # floor(106 × 3380 / 3000) = floor(119.43): the kopecks lost to flooring stay lost.
    assert recalculated(paid, TODAY, 338000, 300000) == TODAY + timedelta(days=119)


@pytest.mark.parametrize(
    "paid", [None, TODAY, TODAY - timedelta(days=1), TODAY - timedelta(days=90)]
)
def test_no_days_left_means_nothing_to_convert(paid):
    # Unpaid, the paid-through day itself, lapsed: the date stays where it is.
    assert recalculated(paid, TODAY, 300000, 338000) == paid
    assert recalculated(paid, TODAY, 338000, 300000) == paid


def test_one_day_left_can_round_down_to_today():
    assert recalculated(TODAY + timedelta(days=1), TODAY, 300000, 338000) == TODAY


def test_the_last_free_seat_changes_nothing():
    change = reprice(
        CATALOG,
        tariff_before=STANDARD,
        members_before=2,
        tariff_after=STANDARD,
        members_after=3,
        paid_through=TODAY + timedelta(days=120),
        today=TODAY,
    )
    assert change.monthly_delta == 0
    assert not change.moves_date and not change.shortens


def test_many_seats_at_once():
    change = reprice(
        CATALOG,
        tariff_before=STANDARD,
        members_before=3,
        tariff_after=STANDARD,
        members_after=13,  # ten paid seats: 3 000 → 6 800
        paid_through=TODAY + timedelta(days=365),
        today=TODAY,
    )
    assert change.monthly_after == 680000
    assert change.paid_through_after == TODAY + timedelta(days=161)  # floor(365 × 3000 / 6800)


def test_different_tariffs_use_their_own_free_users():
    change = reprice(
        CATALOG,
        tariff_before=STANDARD,
        members_before=4,
        tariff_after=BUSINESS,  # 5 free: the paid seat disappears
        members_after=4,
        paid_through=TODAY + timedelta(days=120),
        today=TODAY,
    )
    assert (change.monthly_before, change.monthly_after) == (338000, 600000)
    assert change.paid_through_after == TODAY + timedelta(days=67)  # floor(120 × 3380 / 6000)
    down = reprice(
        CATALOG,
        tariff_before=BUSINESS,
        members_before=4,
        tariff_after=START,  # 2 free: two paid seats appear
        members_after=4,
        paid_through=TODAY + timedelta(days=30),
        today=TODAY,
    )
    assert down.monthly_after == 150000 + 2 * 38000
    assert down.paid_through_after == TODAY + timedelta(days=79)  # floor(30 × 6000 / 2260)


def test_audit_sides_carry_dates_as_text():
    change = reprice(
        CATALOG,
        tariff_before=STANDARD,
        members_before=3,
        tariff_after=STANDARD,
        members_after=4,
        paid_through=date(2027, 3, 22),
        today=TODAY,
    )
    before, after = change.audit()
    assert before == {
        "tariff": "standard",
        "members": 3,
        "monthly_cost": 300000,
        "paid_through": "2027-03-22",
    }
    assert after["paid_through"] == "2027-03-08" and after["members"] == 4


@given(
    left=st.integers(min_value=0, max_value=3 * 366),
    old=st.integers(min_value=10_000, max_value=10**7),
    new=st.integers(min_value=10_000, max_value=10**7),
)
def test_recalculation_keeps_value_and_never_overpays(left, old, new):
    paid = TODAY + timedelta(days=left)
    moved = recalculated(paid, TODAY, old, new)
    new_days = (moved - TODAY).days
    # The prepaid value left (days × monthly cost) never grows, and loses less than one day.
    assert new_days * new <= left * old or old == new
    assert left * old < (new_days + 1) * new or old == new or left == 0
    if new > old:
        assert moved <= paid
    if new < old:
        assert moved >= paid


# --- Renewal reminders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "due"),
    [
        (8, None),
        (7, 7),
        (5, 7),  # a run that missed the 7th day catches up
        (3, 3),
        (2, 3),
        (1, 1),
        (0, 1),  # the paid-through day itself, if the 1-day run was missed
        (-1, None),  # lapsed: the read-only notice takes over
    ],
)
def test_reminder_due(left, due):
    assert reminder_due(TODAY + timedelta(days=left), TODAY, (7, 3, 1)) == due


def test_no_reminder_without_a_paid_period():
    assert reminder_due(None, TODAY, (7, 3, 1)) is None


# --- The catalog file -------------------------------------------------------------------------


def _data(**changes) -> dict:
    base = {
        "extra_user_price": 38000,
        "prepay_discounts": {"3": 5},
        "reminders": {"days_before": [1]},
        "tariffs": [
            {"code": "a", "name_ru": "А", "name_en": "A", "monthly_price": 100, "free_users": 1}
        ],
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    "changes",
    [
        {"tariffs": []},
        {"extra_user_price": 380.5},
        {"extra_user_price": -1},
        {"prepay_discounts": {"3": 100}},
        {"prepay_discounts": {"1": 5}},
        {"reminders": {"days_before": [0]}},
        {
            "tariffs": [
                {"code": "a", "name_ru": "А", "name_en": "A", "monthly_price": 1, "free_users": 1}
            ]
            * 2
        },
        {
            "tariffs": [
                {"code": "a", "name_ru": "А", "name_en": "A", "monthly_price": 0, "free_users": 1}
            ]
        },
        {"tariffs": [{"code": "a", "monthly_price": 1, "free_users": 1}]},
    ],
)
def test_a_malformed_catalog_is_refused(changes):
    with pytest.raises(CatalogError):
        parse_catalog(_data(**changes))


def test_decimal_discounts_and_custom_file(tmp_path: Path):
    path = tmp_path / "tariffs.toml"
    path.write_text(
        "extra_user_price = 50000\n[prepay_discounts]\n3 = 7.5\n[reminders]\ndays_before = [2]\n"
        '[[tariffs]]\ncode = "solo"\nname_ru = "Соло"\nname_en = "Solo"\n'
        "monthly_price = 99900\nfree_users = 1\n",
        encoding="utf-8",
    )
    catalog = load_catalog(path)
    assert catalog.discount(3) == Decimal("7.5")
    bill = invoice(catalog, catalog.tariff("solo"), members=2, months=3)
    # 299 700 × 7.5 % = 22 477.5 → 22 478; 150 000 × 7.5 % = 11 250
    assert [line.discount for line in bill.lines] == [22478, 11250]
    with pytest.raises(CatalogError):
        load_catalog(tmp_path / "missing.toml")
