"""Texts, keyboards, chart data and CSV files of /report."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.format import currency_sign, number, q, when, whole_money
from bot.orders.render import age_units, reason_name, status_name
from bot.reports import export
from bot.reports.callbacks import ReportCb, ReportOp
from bot.reports.chart import ChartData
from bot.reports.periods import PERIOD_NAMES, period_text
from core.reports.periods import Period
from core.reports.service import (
    CancelledCount,
    Figures,
    ReportMember,
    ReportOrder,
    ReportRow,
    SalesReport,
    Scope,
    Speed,
)

NAME_WIDTH = 16
CHART_BARS = 20  # more members than this: the smallest are drawn as one "others" bar


def member_label(row: ReportRow) -> str:
    return row.name or _("unassigned")


def rubles(kopecks: int) -> str:
    """Whole rubles for the narrow table (half-up): 450050 → '4 501' ('4,501' in English)."""
    whole = (kopecks + 50) // 100 if kopecks >= 0 else -((-kopecks + 50) // 100)
    return number(whole)


def percent(tenths: int) -> str:
    return number(Decimal(tenths).scaleb(-1), "0.0")


# ---- the text table --------------------------------------------------------------------------


def _cells(name: str, figures: Figures, share: int) -> list[str]:
    name = name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"
    return [
        name,
        str(figures.completed),
        rubles(figures.revenue),
        rubles(figures.average),
        percent(share),
        str(figures.open),
    ]


def table(report: SalesReport) -> str:
    """A monospace table; columns as wide as their widest cell, numbers right-aligned."""
    header = [_("Member"), _("Done"), _("Revenue"), _("Average"), "%", _("Still open")]
    body = [_cells(member_label(r), r.figures, r.share) for r in report.rows]
    total = _cells(_("In total"), report.totals, 1000 if report.totals.revenue else 0)
    widths = [max(len(row[i]) for row in (header, *body, total)) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return " ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    lines = [line(header), *(line(row) for row in body)]
    lines += ["─" * (sum(widths) + len(widths) - 1), line(total)]
    return "<pre>" + q("\n".join(lines)) + "</pre>"


def report_text(report: SalesReport) -> str:
    lines = [_("<b>Sales report</b> · {period}").format(period=period_text(report.period))]
    if report.scope == Scope.OWN:
        lines.append(_("Your own figures (your role shows no one else's)."))
    elif report.member_name:
        lines.append(_("Member: {name}").format(name=q(report.member_name)))
    else:
        lines.append(_("Everyone"))
    if report.empty:
        lines.append(_("No completed or open orders in this period."))
    lines.append(table(report))
    lines.append(
        _(
            "Done: orders completed in the period; revenue and average in {currency}; %: share "
            "of revenue; still open: orders created in the period and not closed yet."
        ).format(currency=q(report.currency))
    )
    if report.other_currency:
        count = report.other_currency
        lines.append(
            ngettext(
                "{count} completed order in another currency is not in the sums.",
                "{count} completed orders in other currencies are not in the sums.",
                count,
            ).format(count=count)
        )
    lines += speed_lines(report)
    lines += cancelled_lines(report.cancelled)
    lines.append(_("Another period: /report 01.11.2026-15.11.2026"))
    return "\n".join(lines)


def duration(span: timedelta | None, units: tuple[str, str, str]) -> str:
    """12 min, 5 h, 3 d (as order ages are shown); — for none."""
    if span is None:
        return "—"
    minutes_, hours, days = units
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return minutes_.format(n=minutes)
    if minutes < 48 * 60:
        return hours.format(n=minutes // 60)
    return days.format(n=minutes // (24 * 60))


def speed_lines(report: SalesReport) -> list[str]:
    """Per member: the median time to claim and from claim to completion in the period."""
    rows = [r for r in report.rows if r.member_id is not None and r.speed != Speed()]
    if not rows:
        return []
    units = age_units()
    lines = [_("<b>Speed</b> (medians): time to claim (working time) · from claim to completion")]
    for row in rows:
        claim = duration(row.speed.to_claim, units)
        complete = duration(row.speed.to_complete, units)
        lines.append(f"{q(member_label(row))}: {claim} · {complete}")
    return lines


CANCEL_REASON_LINES = 5  # more reasons than this: the rarest are summed as "other reasons"


def cancelled_lines(cancelled: tuple[CancelledCount, ...]) -> list[str]:
    """'Cancelled: 4 orders' and how many for each reason, most frequent first."""
    total = sum(c.count for c in cancelled)
    if not total:
        return []
    lines = [
        ngettext("Cancelled: {count} order", "Cancelled: {count} orders", total).format(count=total)
    ]
    shown = (
        cancelled[:CANCEL_REASON_LINES] if len(cancelled) > CANCEL_REASON_LINES + 1 else cancelled
    )
    for c in shown:
        reason = reason_name(c.reason) if c.reason else _("no reason given")
        lines.append(_("• {reason}: {count}").format(reason=q(reason), count=c.count))
    rest = sum(c.count for c in cancelled[len(shown) :])
    if rest:
        lines.append(_("• other reasons: {count}").format(count=rest))
    return lines


def report_keyboard(report: SalesReport) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    member_id = report.member_id
    builder.row(
        *(
            InlineKeyboardButton(
                text=("• " if report.period.kind == kind else "") + str(name),
                callback_data=ReportCb.named(ReportOp.SHOW, kind, member_id).pack(),
            )
            for kind, name in PERIOD_NAMES.items()
        )
    )
    if report.scope == Scope.TEAM:
        who = report.member_name or _("everyone")
        builder.row(
            InlineKeyboardButton(
                text=_("👤 Member: {name}").format(name=who),
                callback_data=ReportCb.of(ReportOp.MEMBERS, report.period, member_id).pack(),
            )
        )
    exact = {"exact": True}
    builder.row(
        InlineKeyboardButton(
            text=_("📄 CSV"),
            callback_data=ReportCb.of(ReportOp.CSV, report.period, member_id, **exact).pack(),
        ),
        InlineKeyboardButton(
            text=_("📄 Orders CSV"),
            callback_data=ReportCb.of(ReportOp.ORDERS, report.period, member_id, **exact).pack(),
        ),
    )
    return builder.as_markup()


def member_picker(
    period: Period, current: int | None, members: list[ReportMember]
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    choices = [(None, _("Everyone")), *((m.member_id, m.name) for m in members)]
    for member_id, name in choices:
        builder.button(
            text=("• " if member_id == current else "") + name,
            callback_data=ReportCb.of(ReportOp.SHOW, period, member_id),
        )
    builder.button(text=_("« Back"), callback_data=ReportCb.of(ReportOp.BACK, period, current))
    builder.adjust(2)
    return builder.as_markup()


# ---- the chart -------------------------------------------------------------------------------


CHART_NAME_CHARS = 22  # a longer name is cut with "…": the orders after it stay on the chart


def short_name(name: str) -> str:
    return name if len(name) <= CHART_NAME_CHARS else name[: CHART_NAME_CHARS - 1] + "…"


def chart_data(report: SalesReport) -> ChartData | None:
    """Members with something to show; None when the period has nothing to draw."""
    rows = [r for r in report.rows if r.figures.completed or r.figures.revenue]
    if not rows:
        return None
    names = [r.full_name or member_label(r) for r in rows]
    kopecks = [r.figures.revenue for r in rows]
    orders = [r.figures.completed for r in rows]
    if len(rows) > CHART_BARS:
        keep = CHART_BARS - 1
        names = [*names[:keep], _("others")]
        kopecks = [*kopecks[:keep], sum(kopecks[keep:])]
        orders = [*orders[:keep], sum(orders[keep:])]
    labels = [
        short_name(name)
        + " · "
        + ngettext("{count} order", "{count} orders", count).format(count=count)
        for name, count in zip(names, orders, strict=True)
    ]
    return ChartData(
        title=_("Revenue by member, {currency}").format(currency=currency_sign(report.currency)),
        labels=tuple(labels),
        revenue=tuple(k / 100 for k in kopecks),
        values=tuple(whole_money(k, report.currency) for k in kopecks),
        orders=tuple(orders),
    )


def chart_caption(report: SalesReport) -> str:
    return _("Sales chart · {period}").format(period=period_text(report.period))


# ---- CSV files -------------------------------------------------------------------------------


def _file_days(period: Period) -> str:
    return f"{period.first:%Y-%m-%d}_{period.last:%Y-%m-%d}"


def report_csv(report: SalesReport, locale: str) -> BufferedInputFile:
    style = export.style_for(locale)
    headers = [
        _("Member"),
        _("Orders completed"),
        _("Revenue, {currency}").format(currency=report.currency),
        _("Average order, {currency}").format(currency=report.currency),
        _("Share of revenue, %"),
        _("Still open"),
    ]

    def cells(name: str, figures: Figures, share: int) -> list[str | int]:
        return [
            export.text(name),
            figures.completed,
            export.amount(figures.revenue, style),
            export.amount(figures.average, style),
            export.tenths(share, style),
            figures.open,
        ]

    rows = [cells(member_label(r), r.figures, r.share) for r in report.rows]
    rows.append(cells(_("In total"), report.totals, 1000 if report.totals.revenue else 0))
    data = export.to_csv(headers, rows, style)
    return BufferedInputFile(data, filename=f"sales_{_file_days(report.period)}.csv")


def orders_csv(
    orders: list[ReportOrder], period: Period, timezone: str, locale: str
) -> BufferedInputFile:
    style = export.style_for(locale)
    headers = [
        _("Order"),
        _("Status"),
        _("Assignee"),
        _("Total"),
        _("Currency"),
        _("Created"),
        _("Completed"),
    ]
    rows = [
        [
            export.text(o.number),
            status_name(o.status),
            export.text(o.assignee or _("unassigned")),
            export.amount(o.total, style),
            o.currency,
            when(o.created_at, timezone),
            when(o.completed_at, timezone) if o.completed_at else "",
        ]
        for o in orders
    ]
    data = export.to_csv(headers, rows, style)
    return BufferedInputFile(data, filename=f"orders_{_file_days(period)}.csv")


def file_caption(period: Period, count: int) -> str:
    return _("{period} · rows: {count}").format(period=period_text(period), count=count)
