"""Rules of the layout: core never imports aiogram; no import cycles in product code; importing
a package has no side effects; every message exists in both languages; every third-party
package the code imports is declared in pyproject.toml.

The layers themselves (shopdesk > bot | web > core) are import-linter contracts in
pyproject.toml, checked by `lint-imports` in `make test`.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import grimp
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


PRODUCT = ("shopdesk", "bot", "web", "core")


def import_cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """Each cycle of module imports once, as (a, b, …, a), starting at its smallest module."""
    cycles = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                loop = (importer, *back[:-1])
                start = loop.index(min(loop))
                cycles.add((*loop[start:], *loop[:start], min(loop)))
    return sorted(cycles)


def test_no_import_cycles_in_product_code():
    """Function-level and TYPE_CHECKING imports count too: a cycle hidden in either is still
    two modules that cannot be understood (or changed) one without the other."""
    graph = grimp.build_graph(*PRODUCT, exclude_type_checking_imports=False, cache_dir=None)
    assert len(graph.modules) > 150
    cycles = import_cycles(graph)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_cycle_finder_sees_a_cycle_through_three_modules():
    graph = grimp.ImportGraph()
    for importer, imported in (("p.b", "p.c"), ("p.c", "p.a"), ("p.a", "p.b"), ("p.a", "p.d")):
        graph.add_import(importer=importer, imported=imported)
    assert import_cycles(graph) == [("p.a", "p.b", "p.c", "p.a")]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_packages_patches_nothing_and_imports_no_aiogram():
    done = _run(
        """
        import sys
        from pydantic import BaseModel

        rebuild = BaseModel.__dict__["model_rebuild"]
        import bot, bot.lazy_types, core, shopdesk, shopdesk.cli, web, web.server

        assert not [m for m in sys.modules if m.startswith("aiogram")], "aiogram imported"
        assert BaseModel.__dict__["model_rebuild"] is rebuild
        import aiogram.types

        # Nothing was deferred: aiogram built every model at import, as it does by itself.
        assert aiogram.types.PreCheckoutQuery.__pydantic_complete__
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_the_cli_entry_point_builds_aiogram_models_on_first_use():
    """`python -m bot …` runs shopdesk.cli.main: it installs lazy models before aiogram loads."""
    done = _run(
        """
        import contextlib, io
        from shopdesk import cli

        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            cli.main(["--help"])
        from aiogram import types

        assert not types.PreCheckoutQuery.__pydantic_complete__
        assert types.Message.__pydantic_parent_namespace__["Message"] is types.Message
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


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


# ---- who talks to Telegram on its own initiative -----------------------------------------------

# Bot API methods that put a message into, or change one in, a chat of the caller's choosing.
_SENDS = re.compile(
    r"^(send_(?!chat_action$)\w+|edit_message_\w+|copy_messages?|forward_messages?)$"
)
_SEND_METHODS = re.compile(
    r"^(Send(?!ChatAction$)\w+|EditMessage\w+|CopyMessages?|ForwardMessages?)$"
)
# Message shortcuts that send to another chat (answer, reply and edit_text stay in the chat of
# the update being answered, and are the direct replies every handler may give).
_ELSEWHERE = {"send_copy", "copy_to", "forward"}
SENDER = "bot/notifications/sender.py"
# Direct answers to the member's own update from middlewares that have no Message to answer.
ALLOWED = {
    ("bot/guards.py", "event.bot.send_message"),  # "you are sending too fast", once
    ("bot/tariff/middleware.py", "bot.send_message"),  # the read-only notice, once per lapse
}


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def outgoing_calls(source: str) -> list[str]:
    """Calls in `source` that send or edit a message other than as a direct answer: a Bot's
    send/edit/copy/forward methods (`x.send_message(...)`, whatever `x` is),
    `bot(SendMessage(...))`, and Message shortcuts to other chats. A plain function named
    send_* (send_report) is not one: it can only answer through what it is given."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if isinstance(node.func, ast.Attribute) and (_SENDS.match(name) or name in _ELSEWHERE):
            found.append(ast.unparse(node.func))
        elif name == "bot" and node.args and isinstance(node.args[0], ast.Call):
            method = _name(node.args[0].func)
            if _SEND_METHODS.match(method):
                found.append(f"{ast.unparse(node.func)}({method})")
    return found


def test_only_the_outbox_sender_sends_on_its_own():
    """Everything the bot tells a chat other than the answer to the update in front of it is
    an outbox row, sent by the one sender under the rate limits, once per event."""
    offenders = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if name == SENDER:
            continue
        for call in outgoing_calls(path.read_text(encoding="utf-8")):
            if (name, call) not in ALLOWED:
                offenders.append(f"{name}: {call}")
    assert offenders == []
    sender = outgoing_calls((ROOT / SENDER).read_text(encoding="utf-8"))
    assert {"self.bot.send_message", "self.bot.edit_message_text"} <= set(sender)


def test_the_sender_rule_catches_sends_and_spares_direct_answers():
    violations = """
async def handler(message, query, bot, self):
    await bot.send_message(1, "hi")
    await self.bot.edit_message_text(text="x", chat_id=1, message_id=2)
    await message.bot.send_photo(1, photo)
    await bot.edit_message_reply_markup(chat_id=1, message_id=2)
    await bot.send_document(1, document)
    await bot(SendMessage(chat_id=1, text="hi"))
    await message.forward(1)
"""
    assert sorted(outgoing_calls(violations)) == sorted(
        [
            "bot.send_message",
            "self.bot.edit_message_text",
            "message.bot.send_photo",
            "bot.edit_message_reply_markup",
            "bot.send_document",
            "bot(SendMessage)",
            "message.forward",
        ]
    )
    answers = """
async def handler(message, query, bot):
    await send_report(message, report)
    await message.answer("hi")
    await query.message.edit_text("x")
    await message.answer_document(document)
    await query.answer("ok")
    await bot.send_chat_action(1, "typing")
"""
    assert outgoing_calls(answers) == []


def third_party_imports(source: str) -> set[str]:
    """Top-level names of absolute imports anywhere in a module (functions, TYPE_CHECKING too)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.partition(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names}


def _distribution(requirement: str) -> str:
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def undeclared_imports(folders: tuple[str, ...], declared: set[str]) -> dict[str, list[str]]:
    """{module: files} for each import that no declared distribution provides."""
    first_party = {*PRODUCT, "tests", "bench"}
    providers = packages_distributions()
    missing: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in third_party_imports(path.read_text(encoding="utf-8")) - first_party:
                dists = {_distribution(d) for d in providers.get(name, [])}
                if not dists & declared:
                    missing.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return missing


def test_every_imported_package_is_declared():
    """The product's imports are runtime dependencies; tests and bench may also use `dev`.
    A package that only arrives as another one's dependency can vanish with its next release."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_distribution(r) for r in project["dependencies"]}
    dev = runtime | {_distribution(r) for r in project["optional-dependencies"]["dev"]}
    assert len(runtime) >= 10
    assert undeclared_imports(PRODUCT, runtime) == {}
    assert undeclared_imports(("tests", "bench"), dev) == {}


def test_the_declared_imports_check_sees_a_missing_one():
    assert third_party_imports("import json\nfrom aiohttp import web\nfrom . import x") == {
        "aiohttp"
    }
    assert _distribution("sqlalchemy[asyncio]>=2.0.30,<3") == "sqlalchemy"
    assert _distribution("Prometheus_Client>=0.20") == "prometheus-client"
    # Without aiohttp declared, web/ (which serves on aiohttp) is reported.
    missing = undeclared_imports(("web",), {"aiogram", "sqlalchemy", "pydantic", "alembic"})
    assert "aiohttp" in missing and all(p.startswith("web/") for p in missing["aiohttp"])
