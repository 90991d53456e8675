"""Texts of /settings."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

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
        _("Morning digest at: {hour}:00").format(hour=f"{s.digest_hour:02}"),
        "",
        _(
            "Change:\n"
            "/settings tz Novosibirsk — the time zone, by city\n"
            "/settings quiet 23-7 — quiet hours (or: /settings quiet off)\n"
            "/settings hours 9 19 — what morning and evening mean\n"
            "/settings country KZ — the country (two letters)"
        ),
        _("/settings digest 9 — the hour of the morning digest (working days)"),
    ]
    return "\n".join(lines)


def saved(s: AccountSettings) -> str:
    return _("✅ Saved.") + "\n\n" + settings(s)
