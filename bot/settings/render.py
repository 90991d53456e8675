"""Texts and buttons of /settings, built from the one table in bot/settings/registry.py."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.settings import registry
from bot.settings.callbacks import SettingCb
from bot.settings.registry import Entry
from core.accounts.settings import AccountSettings


def settings(s: AccountSettings) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Account settings</b>")]
    lines += [
        _("{label}: {value}").format(label=entry.label, value=entry.shown(s))
        for entry in registry.ENTRIES
    ]
    lines += ["", _("Tap a setting to change it (or: /settings tz Novosibirsk).")]
    builder = InlineKeyboardBuilder()
    for entry in registry.ENTRIES:
        builder.button(text="✏️ " + str(entry.label), callback_data=SettingCb(key=entry.key))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def saved(s: AccountSettings) -> tuple[str, InlineKeyboardMarkup]:
    text, markup = settings(s)
    return _("✅ Saved.") + "\n\n" + text, markup


def ask(entry: Entry, s: AccountSettings) -> str:
    return "\n".join(
        [
            _("<b>{label}</b> now: {value}").format(label=entry.label, value=entry.shown(s)),
            str(entry.prompt),
            _("/cancel — leave it as it is."),
        ]
    )


def cancelled() -> str:
    return _("Nothing changed.")


def gone() -> str:
    return _("This setting no longer exists. See /settings.")
