"""Rules of the layout: core never imports aiogram; every message exists in both languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "__": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def test_core_never_imports_aiogram():
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "aiogram" or n.startswith("aiogram.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT / "bot"), keywords=KEYWORDS, comment_tags=()
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(locale: str) -> dict[str, str]:
    path = ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source)
    return {
        m.id if isinstance(m.id, str) else m.id[0]: m.string
        for m in catalog
        if m.id and not m.fuzzy
    }


def test_every_message_is_translated_in_both_languages():
    source = _source_messages()
    assert len(source) > 50
    for locale in ("ru", "en"):
        catalog = _catalog(locale)
        missing = sorted(m for m in source if not catalog.get(m))
        assert missing == [], f"{locale}: {len(missing)} untranslated, e.g. {missing[:3]}"


def test_translations_keep_every_placeholder():
    ru = _catalog("ru")
    for msgid, msgstr in ru.items():
        if isinstance(msgstr, str):
            want = sorted(set(_placeholders(msgid)))
            assert sorted(set(_placeholders(msgstr))) == want, msgid


def _placeholders(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


_TAG = re.compile(r"</?([a-zA-Z]+)[^>]*>")
_ALLOWED_TAGS = {"b", "i", "u", "s", "code", "pre", "a", "blockquote"}


def test_catalog_texts_are_valid_telegram_html():
    """Messages are sent in HTML mode: a stray '<' would make Telegram refuse the message."""
    for locale in ("ru", "en"):
        for msgid, msgstr in _catalog(locale).items():
            for text in (msgid, msgstr):
                if not isinstance(text, str):
                    continue
                tags = _TAG.findall(text)
                assert set(tags) <= _ALLOWED_TAGS, (locale, text)
                assert text.count("<") == len(tags), (locale, text)
