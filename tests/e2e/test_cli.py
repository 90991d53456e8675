from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, database: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    environ.update(DATABASE_URL=f"sqlite+aiosqlite:///{database}", **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_every_subcommand(tmp_path):
    result = run_cli("--help", database=tmp_path / "db.sqlite")
    assert result.returncode == 0
    for name in ("run", "migrate", "account"):
        assert name in result.stdout


def test_account_create_prints_id_on_last_line(tmp_path):
    db = tmp_path / "db.sqlite"
    first = run_cli(
        "account", "create", "--name", "Магазин", "--owner-telegram-id", "100", database=db
    )
    second = run_cli(
        "account", "create", "--name", "Second", "--owner-telegram-id", "200", database=db
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "1"
    assert second.stdout.strip().splitlines()[-1] == "2"


def test_bad_setting_stops_with_the_variable_name(tmp_path):
    result = run_cli("migrate", database=tmp_path / "db.sqlite", DEFAULT_TIMEZONE="Mars/Base")
    assert result.returncode == 2
    assert "DEFAULT_TIMEZONE" in result.stderr and "Mars/Base" in result.stderr


def test_account_create_refuses_bad_timezone(tmp_path):
    result = run_cli(
        "account",
        "create",
        "--name",
        "X",
        "--owner-telegram-id",
        "1",
        "--timezone",
        "Nowhere/City",
        database=tmp_path / "db.sqlite",
    )
    assert result.returncode == 1
    assert "Unknown time zone Nowhere/City" in result.stderr
