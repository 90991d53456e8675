"""Texts of /settings."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.format import q
from core.accounts.settings import AccountSettings


def settings(s: AccountSettings) -> str:
    quiet = (
        _("{start}:00–{end}:00").format(start=s.quiet_start, end=f"{s.quiet_end:02}")
        if s.quiet_hours
        else _("off")
    )
    lines = [
        _("<b>Account settings</b>"),
        _("Time zone: {zone}").format(zone=q(s.timezone)),
        _("Quiet hours for alerts: {window}").format(window=quiet),
        _("“In the morning” / “in the evening” in due times: {morning}:00 / {evening}:00").format(
            morning=f"{s.morning_hour:02}", evening=s.evening_hour
        ),
        _("Country for phone numbers without a +code: {country}").format(country=s.country),
        *orders_settings(s),
        "",
        _(
            "Change:\n"
            "/settings tz Novosibirsk — the time zone, by city\n"
            "/settings quiet 23-7 — quiet hours (or: /settings quiet off)\n"
            "/settings hours 9 19 — what morning and evening mean\n"
            "/settings country KZ — the country (two letters)"
        ),
        orders_settings_usage(),
    ]
    return "\n".join(lines)


def _days(days: str) -> str:
    names = {
        "1": _("Mon"),
        "2": _("Tue"),
        "3": _("Wed"),
        "4": _("Thu"),
        "5": _("Fri"),
        "6": _("Sat"),
        "7": _("Sun"),
    }
    return ", ".join(names[d] for d in days) or "—"


def orders_settings(s: AccountSettings) -> list[str]:
    """Working hours, claim timers and the distribution of new orders."""
    distribution = (
        _("automatic, to the manager on shift with the fewest open orders")
        if s.distribution == "auto"
        else _("claim: announced, whoever claims first")
    )
    return [
        _("Working hours: {start}:00–{end}:00, {days}").format(
            start=f"{s.work_start:02}", end=f"{s.work_end:02}", days=_days(s.work_days)
        ),
        ngettext(
            "An unclaimed order is announced again after {n} working minute, escalated after "
            "twice that",
            "An unclaimed order is announced again after {n} working minutes, escalated after "
            "twice that",
            s.claim_minutes,
        ).format(n=s.claim_minutes),
        _("New orders: {distribution}").format(distribution=distribution),
        _("At most {n} open orders per manager (automatic distribution)").format(n=s.open_cap),
        _("Shifts end at the close of working hours: {state}").format(
            state=_("yes") if s.shift_auto_off else _("no")
        ),
    ]


def orders_settings_usage() -> str:
    return _(
        "/settings work 9-18 1-5 — working hours and days (Monday = 1)\n"
        "/settings claim 15 — minutes an order may wait unclaimed\n"
        "/settings distribution auto — or claim\n"
        "/settings cap 20 — open orders per manager at most\n"
        "/settings shiftoff on — end shifts at closing (or off)"
    )


def saved(s: AccountSettings) -> str:
    return _("✅ Saved.") + "\n\n" + settings(s)
