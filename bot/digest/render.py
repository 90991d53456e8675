"""Texts of the morning digest and of /digest, in the reader's language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.format import day, money, q, weekdays, when
from core.digest.service import DigestState
from core.journal.forecast import FORECAST_DAYS


def _oldest(item: dict[str, str] | None, tz: str) -> str:
    if not item:
        return ""
    return " " + _("(the oldest: №{number}, since {when})").format(
        number=q(item["number"]), when=when(datetime.fromisoformat(item["since"]), tz)
    )


def _orders(p: dict[str, Any]) -> list[str]:
    lines = []
    if p["open"]:
        text = ngettext("📦 You have {n} open order", "📦 You have {n} open orders", p["open"])
        lines.append(text.format(n=p["open"]) + _oldest(p["oldest_open"], p["tz"]))
    if p["waiting"]:
        text = ngettext(
            "🆕 {n} order waits to be claimed", "🆕 {n} orders wait to be claimed", p["waiting"]
        )
        lines.append(text.format(n=p["waiting"]) + _oldest(p["oldest_waiting"], p["tz"]))
    return lines


def _tasks(p: dict[str, Any]) -> list[str]:
    parts = []
    if p["tasks_overdue"]:
        parts.append(
            ngettext("{n} overdue", "{n} overdue", p["tasks_overdue"]).format(n=p["tasks_overdue"])
        )
    if p["tasks_today"]:
        parts.append(
            ngettext("{n} due today", "{n} due today", p["tasks_today"]).format(n=p["tasks_today"])
        )
    if not parts:
        return []
    return [_("✅ Tasks: {list} — /tasks").format(list=", ".join(parts))]


def _yesterday(p: dict[str, Any]) -> list[str]:
    parts = []
    if p["claimed"]:
        parts.append(
            ngettext("{n} order taken", "{n} orders taken", p["claimed"]).format(n=p["claimed"])
        )
    if p["completed"]:
        done = ngettext("{n} completed", "{n} completed", p["completed"]).format(n=p["completed"])
        revenue = _("revenue {amount}").format(amount=money(p["revenue"], p["currency"]))
        parts += [done, revenue]
    if not parts:
        return []
    return [_("📊 Yesterday: {results}").format(results=", ".join(parts))]


def _runway(o: dict[str, Any], today: date) -> str:
    """As /balance puts it: a shortfall within FORECAST_DAYS is a warning, later ones a date."""
    if not o["renews"]:
        return _("nothing renews automatically")
    if o["short_on"] is None:
        return _("it covers every renewal for the next 12 months")
    short_on = date.fromisoformat(o["short_on"])
    if (short_on - today).days <= FORECAST_DAYS:
        return _("⚠️ short by {amount} for the renewals on {date} — /topup").format(
            amount=money(o["shortfall"], o["currency"]), date=day(short_on)
        )
    return _("it covers renewals until {date}").format(date=day(short_on))


def _owner(o: dict[str, Any] | None, today: date) -> list[str]:
    if o is None:
        return []
    balance = money(o["balance"], o["currency"])
    lines = [_("💰 Balance {balance}: {runway}").format(balance=balance, runway=_runway(o, today))]
    if o["paid_through"]:
        paid = day(date.fromisoformat(o["paid_through"]))
        lines.append(_("🗓 ShopDesk is paid through {date} — /tariff").format(date=paid))
    return lines


def digest(params: dict[str, Any]) -> tuple[str, None]:
    """The outbox's digest message."""
    today = date.fromisoformat(params["day"])
    head = _("☀️ <b>Good morning! Your day, {date}</b>").format(date=day(today))
    owner = _owner(params.get("owner"), today)
    body = [*_orders(params), *_tasks(params), *_yesterday(params), *owner]
    return "\n".join([head, "", *body]), None


def state(s: DigestState) -> str:
    days = weekdays(s.work_days)
    if s.on:
        head = _("☀️ The morning digest is on: every working day ({days}) at {hour}:00.").format(
            days=days, hour=f"{s.hour:02}"
        )
    else:
        head = _("The morning digest is off.")
    lines = [
        head,
        _("It lists your open orders, tasks due today and overdue, and yesterday's results."),
    ]
    if s.is_owner:
        lines.append(_("Yours also has the balance's runway and the paid-through date."))
        lines.append(_("The hour: /settings digest 9"))
    lines.append(_("Turn it off: /digest off") if s.on else _("Turn it on: /digest on"))
    return "\n".join(lines)
