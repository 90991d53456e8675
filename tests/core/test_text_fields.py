"""One check in core refuses text a text column cannot hold, for every way data comes in."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.orders import fields
from core.tasks.service import clean_text


@pytest.mark.parametrize("bad", ["a\x00b", "\x00", "x\ud800", "\udfffy", " ok\x00 "])
def test_text_with_nul_or_a_lone_surrogate_is_refused_naming_the_field(bad):
    with pytest.raises(InvalidInput) as refused:
        fields.text(bad, "customer.name", limit=200)
    assert refused.value.code == "field_characters"
    assert refused.value.params == {"field": "customer.name"}
    assert not fields.storable(bad)


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (fields.number, "10\x0042"),
        (fields.phone, "+7 900\x00 123-45-67"),
        (fields.email, "a\x00@example.com"),
        (fields.currency, "RU\x00"),
    ],
)
def test_every_text_field_goes_through_the_check(check, value):
    with pytest.raises(InvalidInput) as refused:
        check(value, "f")
    assert refused.value.code == "field_characters" and refused.value.params["field"] == "f"


def test_ordinary_text_is_kept():
    for good in ("Иван Петров", "emoji 😀 and ü", "tab\tand\nnewline"):
        assert fields.text(good, "f", limit=200) == good.strip()
        assert fields.storable(good)


def test_task_text_uses_the_same_check():
    with pytest.raises(InvalidInput) as refused:
        clean_text("позвонить\x00")
    assert refused.value.code == "task_text_characters"
    assert clean_text(" позвонить ") == "позвонить"
