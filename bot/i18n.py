"""Locales: gettext catalogs, found wherever ShopDesk runs.

An installed package (wheel, Docker image) carries them compiled in `bot/locales/` (setup.py
builds them from the sources); a checkout or an editable install reads `locales/` at the top of
the repository and compiles its .po files to .mo when missing or stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram import BaseMiddleware
from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PACKAGED_LOCALES = Path(__file__).resolve().parent / "locales"  # compiled into the wheel
SOURCE_LOCALES = Path(__file__).resolve().parent.parent / "locales"  # the repository's sources
LOCALES_DIR = PACKAGED_LOCALES if PACKAGED_LOCALES.is_dir() else SOURCE_LOCALES
DOMAIN = "messages"
LOCALES = ("ru", "en")


def compile_locales(path: Path = LOCALES_DIR) -> None:
    for po in path.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        with mo.open("wb") as target:
            write_mo(target, catalog)


def build_i18n(default_locale: str) -> I18n:
    compile_locales()  # a no-op in an installed package: it carries .mo files, no .po sources
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


class LocaleMiddleware(BaseMiddleware):
    """Member's choice → account default → Telegram's language → DEFAULT_LOCALE."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    async def __call__(self, handler, event, data: dict[str, Any]) -> Any:
        data["locale"] = locale = pick_locale(data, self.i18n.default_locale)
        data["i18n"] = self.i18n
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await handler(event, data)


def pick_locale(data: dict[str, Any], default: str) -> str:
    actor = data.get("actor")
    if actor is not None:
        return actor.locale
    access = data.get("access")
    if access is not None and access.locale:
        return access.locale
    user = data.get("event_from_user")
    code = (getattr(user, "language_code", None) or "")[:2]
    return code if code in LOCALES else default


def fill_source_locale(path: Path = SOURCE_LOCALES, locale: str = "en") -> int:
    """Source strings are English: the en catalog repeats each new msgid as its msgstr."""
    from babel.messages.pofile import write_po

    po = path / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as source:
        catalog = read_po(source)
    filled = 0
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
            filled += 1
    with po.open("wb") as target:
        write_po(target, catalog, no_location=True, width=100)
    return filled
