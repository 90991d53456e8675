"""The /orders list as rendered (cached frame, copied row buttons) equals one built plainly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.i18n import build_i18n
from bot.orders import render
from bot.orders.callbacks import OPEN, OrdersList
from core.orders.models import OrderStatus
from core.orders.service import Cursor, OrdersPage, OrderTab
from core.orders.views import OrderSummary

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def page(tab: OrderTab, status: OrderStatus | None, rows: int) -> OrdersPage:
    summaries = [
        OrderSummary(
            id=100 + i,
            number=f"A-{i}",
            status=OrderStatus.NEW,
            total=1000 * i,
            currency="RUB",
            assignee_id=None,
            assignee="@petya" if i % 2 else None,
            created_at=NOW - timedelta(minutes=7 * i),
        )
        for i in range(rows)
    ]
    older = Cursor.of(1_700_000_000_000_000, 90) if rows else None
    return OrdersPage(tab, status, summaries, None, older, tuple(OrderTab), full_view=False)


def plainly(p: OrdersPage) -> tuple[str, InlineKeyboardMarkup]:
    """The list built without caches or copies: every button validated by aiogram."""
    units = render.age_units()
    tabs = [
        InlineKeyboardButton(
            text=("• " if t == p.tab else "") + render.tab_name(t, p.full_view),
            # a tab opens on its default: Mine on the open orders, the others unfiltered
            callback_data=OrdersList.page(t, OPEN if t == OrderTab.MINE else None, None).pack(),
        )
        for t in p.tabs
    ]
    rows = [tabs] + [
        [
            InlineKeyboardButton(
                text=render.row_label(s, NOW, units), callback_data=render.card_data(s.id)
            )
        ]
        for s in p.rows
    ]
    if p.older is not None:
        cb = OrdersList.page(p.tab, p.status, p.older).pack()
        rows.append([InlineKeyboardButton(text=_("Older ▶"), callback_data=cb)])
    rows.append(
        [
            InlineKeyboardButton(
                text=("• " if s == p.status else "")
                + (render.STATUS_ICONS.get(s) or (_("open") if s == OPEN else _("any"))),
                callback_data=OrdersList.page(p.tab, s, None).pack(),
            )
            for s in (
                (None, OPEN, *OrderStatus) if p.tab != OrderTab.UNASSIGNED else (None, *OrderStatus)
            )
        ]
    )
    lines = [
        _("<b>Orders</b> · {tab}").format(tab=render.tab_name(p.tab, p.full_view)),
        _("Status: {status}").format(status=render.status_name(p.status) if p.status else _("any")),
    ]
    if p.tab == OrderTab.ALL and not p.full_view:
        lines.append(_("Colleagues' orders show only number, status, total, assignee and date."))
    lines.append(_("Tap an order to open its card.") if p.rows else _("No orders here."))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def test_rendered_list_equals_the_plain_build_in_every_locale():
    i18n = build_i18n("ru")
    seen = set()
    for locale in ("ru", "en", "ru"):  # the frame cache is keyed by locale
        with i18n.context(), i18n.use_locale(locale):
            for p in (
                page(OrderTab.MINE, None, 10),
                page(OrderTab.ALL, OrderStatus.NEW, 3),
                page(OrderTab.UNASSIGNED, None, 0),
            ):
                text, markup = render.orders_list(p, NOW)
                expected_text, expected = plainly(p)
                assert text == expected_text
                assert markup == expected
                assert markup.model_dump(exclude_none=True) == expected.model_dump(
                    exclude_none=True
                )
                seen.add(text.splitlines()[0])
    assert len(seen) == 6  # three tabs in two languages: no header leaked across locales


def test_a_copied_order_button_is_the_validated_one():
    copied = render._order_button("№A-1 · 10,00 ₽", 42)
    built = InlineKeyboardButton(text="№A-1 · 10,00 ₽", callback_data=render.card_data(42))
    assert copied == built
    assert copied.model_fields_set == built.model_fields_set
    assert copied.model_dump(exclude_unset=True) == {
        "text": "№A-1 · 10,00 ₽",
        "callback_data": render.card_data(42),
    }
