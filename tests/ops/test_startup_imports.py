"""What `python -m bot run` keeps resident: the heavy libraries only some paths need are imported
on first use (invoice PDFs, sealing connector keys, charts, migrations when the schema is behind),
never by the start-up path itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from core.db.migrate import heads

# fpdf2 pulls numpy, PIL and fontTools (≈40 MB); Alembic pulls Mako; Pillow draws charts;
# matplotlib only ships the font (core/fonts.py finds it without importing it).
HEAVY = (
    "fpdf",
    "numpy",
    "PIL",
    "fontTools",
    "num2words",
    "cryptography",
    "alembic",
    "mako",
    "matplotlib",
    "openpyxl",
)

START = textwrap.dedent(
    """
    import asyncio, sys
    from bot import lazy_types
    lazy_types.install()  # as shopdesk.cli.main does
    from shopdesk import cli
    from shopdesk.app import build_app
    from core.db.engine import create_engine
    from core.settings import Settings

    url = "sqlite+aiosqlite:///" + sys.argv[1]
    settings = Settings(
        _env_file=None, database_url=url, bot_token="123:offline",
        connector_secret_key={key!r} or None,
    )

    async def start():
        await cli.migrate(settings)  # what `run` does first; the schema is at head already
        app = build_app(settings)
        assert app.connectors.box.ready == bool({key!r})  # a key set: connectors can seal
        await app.engine.dispose()
        await app.bot.session.close()

    asyncio.run(start())
    print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] in {heavy!r})))
    """
)


def run_start(database: str, key: str = "") -> set[str]:
    code = START.format(heavy=set(HEAVY), key=key)
    done = subprocess.run(
        [sys.executable, "-c", code, database], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(done.stdout.split())


def migrated(tmp_path) -> str:
    database = str(tmp_path / "start.db")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env={"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return database


def test_the_start_up_path_imports_no_heavy_library(tmp_path):
    from core.connectors.crypto import new_key

    database = migrated(tmp_path)
    assert run_start(database, key=new_key()) == set()


def test_a_schema_behind_head_is_still_migrated_with_alembic(tmp_path):
    """The shortcut only skips Alembic at head: a fresh database gets every migration."""
    database = str(tmp_path / "fresh.db")
    assert "alembic" in run_start(database)
    import sqlite3

    with sqlite3.connect(database) as connection:
        versions = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    assert versions == heads()


def test_heads_read_from_the_files_are_alembics():
    from alembic.script import ScriptDirectory

    from core.db.migrate import alembic_config

    assert heads() == frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())
