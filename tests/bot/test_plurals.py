"""Counts in user-facing text take the language's plural forms (Russian has three)."""

from __future__ import annotations

import pytest

from bot.alerts.render import _when
from bot.audit.render import export_caption
from bot.i18n import build_i18n
from bot.reports.render import cancelled_lines
from core.reports.service import CancelledCount


@pytest.fixture
def ru():
    i18n = build_i18n("ru")
    with i18n.context(), i18n.use_locale("ru"):
        yield


@pytest.fixture
def en():
    i18n = build_i18n("ru")
    with i18n.context(), i18n.use_locale("en"):
        yield


def test_days_ahead_in_russian(ru):
    assert _when(2, "2026-12-24") == "24.12.2026 (через 2 дня)"
    assert _when(5, "2026-12-27") == "27.12.2026 (через 5 дней)"
    assert _when(21, "2027-01-12") == "12.01.2027 (через 21 день)"


def test_days_ahead_in_english(en):
    assert _when(5, "2026-12-27") == "on 27.12.2026 (in 5 days)"


def test_history_file_caption(ru):
    assert export_caption(2, truncated=True).startswith("Последние 2 записи;")
    assert export_caption(5000, truncated=True).startswith("Последние 5000 записей;")
    assert export_caption(3, truncated=False) == "Записей: 3"


def test_cancelled_orders(ru):
    one = cancelled_lines((CancelledCount("duplicate", 1),))
    assert one == ["Отменён 1 заказ", "• Дубль заказа: 1"]
    assert cancelled_lines((CancelledCount(None, 5),)) == [
        "Отменено 5 заказов",
        "• причина не указана: 5",
    ]


def test_cancelled_orders_in_english(en):
    assert cancelled_lines((CancelledCount("out_of_stock", 1),))[0] == "Cancelled: 1 order"


def test_the_days_of_the_week_ahead(ru):
    from bot.balance.render import week_cover

    assert week_cover(7, 100_00) == "Чтобы покрыть все продления ближайших 7 дней: 100,00\u00a0₽."
    assert week_cover(3, 100_00).startswith("Чтобы покрыть все продления ближайших 3 дней")
    assert week_cover(1, 100_00).startswith("Чтобы покрыть все продления ближайшего 1 дня")


def test_the_low_balance_alert_counts_its_days(ru):
    from bot.alerts.render import low_balance

    params = {"balance": 100_00, "days": 3, "due": 500_00, "shortfall": 400_00}
    params.update(covered_until=None, at_risk=[], more=0)
    text = low_balance(params)[0]
    assert "продления на ближайшие 3 дня стоят" in text and "ближайших 3 дней:" in text
