"""The one amount parser (core/money.py): the case table of what is read, refused and why."""

from __future__ import annotations

import pytest

from core.money import AmountError, parse_money, percent_of, split_amount

NBSP, NNBSP = "\u00a0", "\u202f"
TOP_UP_MAX = 10_000_000_00


@pytest.mark.parametrize(
    ("text", "kopecks"),
    [
        ("12500", 12_500_00),
        ("12 500", 12_500_00),
        ("12 500,50", 12_500_50),
        ("12 500,50 ₽", 12_500_50),
        ("12500.50", 12_500_50),
        ("12500,5", 12_500_50),
        (f"12{NBSP}500,50{NBSP}₽", 12_500_50),  # as the bot itself prints it
        (f"12{NNBSP}500,50", 12_500_50),
        ("1 234 567,89 руб.", 1_234_567_89),
        ("500 руб", 500_00),
        ("500р.", 500_00),
        ("500 р", 500_00),
        ("500 RUB", 500_00),
        ("  1 000,50  ", 1_000_50),
        ("0,50", 50),
        ("0", 0),  # zero is the caller's rule (a top-up refuses it)
        ("1,50", 1_50),
        ("1500.55", 1_500_55),
    ],
)
def test_amounts_people_write_are_read(text, kopecks):
    assert parse_money(text) == kopecks


@pytest.mark.parametrize(
    ("text", "thousands", "decimal", "hint"),
    [
        ("1,500", 1_500_00, 1_50, ("1500", "1,50")),
        ("1.500", 1_500_00, 1_50, ("1500", "1.50")),
        ("12.500", 12_500_00, 12_50, ("12500", "12.50")),
        ("1.234", 1_234_00, 1_23, ("1234", "1.23")),
        ("999,999 ₽", 999_999_00, 999_99, ("999999", "999,99")),
    ],
)
def test_a_thousand_or_one_and_a_half_is_asked_not_guessed(text, thousands, decimal, hint):
    with pytest.raises(AmountError) as err:
        parse_money(text)
    assert err.value.code == "money_ambiguous"
    params = err.value.params
    assert (params["thousands"], params["decimal"]) == (thousands, decimal)
    assert (params["thousands_text"], params["decimal_text"]) == hint


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "-5",
        "−5",
        "+5",
        "1.500,50",  # points and commas never group digits: no guessing which one is which
        "1,500.50",
        "1.234.567",
        "1 500.500",  # three kopeck digits after a grouped number
        "1500.555",  # four digits before: no reading as thousands, and kopecks are two digits
        "0,500",
        "12 50",  # groups after the first have exactly three digits
        "1234 567",  # the first group has at most three
        "0 500",  # … and doesn't start with 0
        "12  500",  # one space between groups
        "12\t500",
        "12 500,",
        ",50",
        "1500₽₽",
        "١٢٣",  # digits of other scripts
        "1e5",
        "12 500,50 PP-1",  # a whole value must be an amount alone (the splitter takes the rest)
    ],
)
def test_anything_else_is_not_an_amount(text):
    with pytest.raises(AmountError) as err:
        parse_money(text)
    assert err.value.code == "money_format"
    assert err.value.params["value"] == text.strip()


@pytest.mark.parametrize("text", ["10 000 000,01", "99999999999", "9" * 5000])
def test_too_large_names_the_maximum_rather_than_not_an_amount(text):
    with pytest.raises(AmountError) as err:
        parse_money(text, maximum=TOP_UP_MAX)
    assert err.value.code == "money_too_large"
    assert err.value.params["maximum"] == TOP_UP_MAX


def test_the_maximum_itself_is_allowed():
    assert parse_money("10 000 000", maximum=TOP_UP_MAX) == TOP_UP_MAX


@pytest.mark.parametrize(
    ("line", "amount", "rest"),
    [
        ("12 500,50 PP-1042", 12_500_50, "PP-1042"),
        ("12500,50 PP-1042", 12_500_50, "PP-1042"),
        (f"12{NBSP}500,50{NBSP}₽ PP-1042", 12_500_50, "PP-1042"),
        ("1 000,50", 1_000_50, ""),  # was 1,00 ₽ with the reference «000,50»
        ("12 500 PP-1042", 12_500_00, "PP-1042"),
        ("12 500 ₽", 12_500_00, ""),  # the sign ends the amount: no doubt about the last group
        ("12 500₽ 100", 12_500_00, "100"),
        ("500 ₽ 100", 500_00, "100"),
        ("500 руб. счёт 7", 500_00, "счёт 7"),
        ("500,00 100", 500_00, "100"),  # kopecks end the amount too
        ("500 1042", 500_00, "1042"),  # four digits are no group: the reference
        ("500 12", 500_00, "12"),
        ("1234 567", 1_234_00, "567"),  # 1234 can't lead a group
        ("1 000 000 X-1", 1_000_000_00, "X-1"),
        ("5000", 5_000_00, ""),
        ("0", 0, ""),
        ("10 " + "R" * 101, 10_00, "R" * 101),
        ("500  100", 500_00, "100"),  # two spaces don't group
        ("500\n100", 500_00, "100"),
    ],
)
def test_a_command_line_splits_into_amount_and_reference(line, amount, rest):
    parsed = split_amount(line, maximum=TOP_UP_MAX)
    assert (parsed.amount, parsed.rest) == (amount, rest)


@pytest.mark.parametrize(
    ("line", "amount", "head", "reference", "amount_text", "head_text"),
    [
        ("500 100", 500_100_00, 500_00, "100", "500100", "500"),
        ("12 500", 12_500_00, 12_00, "500", "12500", "12"),
        ("1 000 100", 1_000_100_00, 1_000_00, "100", "1000100", "1 000"),
    ],
)
def test_a_bare_last_group_may_be_a_reference_so_it_is_asked(
    line, amount, head, reference, amount_text, head_text
):
    with pytest.raises(AmountError) as err:
        split_amount(line, maximum=TOP_UP_MAX)
    assert err.value.code == "money_or_reference"
    params = err.value.params
    assert (params["amount"], params["head"], params["reference"]) == (amount, head, reference)
    assert (params["amount_text"], params["head_text"]) == (amount_text, head_text)
    # Both suggested rewrites are read without doubt, each as its reading.
    assert split_amount(amount_text).amount == amount
    rewritten = split_amount(f"{head_text},00 {reference}")
    assert (rewritten.amount, rewritten.rest) == (head, reference)


@pytest.mark.parametrize("line", ["", "   ", "abc 500", "-5", "₽500", "PP-1042 12 500"])
def test_no_amount_at_the_start_is_none(line):
    assert split_amount(line) is None


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("1,500 PP-1", "money_ambiguous"),
        ("1.500,50 PP-1", "money_format"),
        ("12500.50PP", "money_format"),
        ("50 000 000 PP-1", "money_too_large"),
        ("99999999999999999999999 PP-1", "money_too_large"),
    ],
)
def test_a_command_line_with_an_unreadable_amount_says_why(line, code):
    with pytest.raises(AmountError) as err:
        split_amount(line, maximum=TOP_UP_MAX)
    assert err.value.code == code


def test_percent_of_rounds_half_up():
    assert percent_of(1_05, 50) == 53
    assert percent_of(3_000_00, 15) == 450_00


def test_one_formatter_writes_money_as_each_language_does():
    from core.money import format_money, format_whole_money, grouped

    assert format_money(3_380_00, "ru") == "3\u00a0380,00\u00a0₽"
    assert format_money(3_380_00, "en") == "3,380.00\u00a0₽"
    assert format_money(-1_250_050, "en") == "−12,500.50\u00a0₽"
    assert format_money(5, "ru", "USD") == "0,05\u00a0USD"
    assert format_whole_money(4_500_050, "en") == "45,001\u00a0₽"
    assert grouped(1_250_050) == "12\u00a0500,50"  # the invoices' PDF (Russian)
    # what is printed is read back by the one parser
    assert parse_money(format_money(1_250_050, "ru")) == 1_250_050
