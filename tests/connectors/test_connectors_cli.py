"""`python -m bot connectors …`: the operator's add, list, pause, rotate, delete and keygen."""

from __future__ import annotations

import re

import pytest

from core.connectors.crypto import check_key
from shopdesk.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("PUBLIC_URL", "https://desk.example.com")
    monkeypatch.delenv("BOT_TOKEN", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_the_operator_manages_connectors(cli, monkeypatch):
    code, key, _ = cli("connectors", "keygen")
    check_key(key.strip())
    assert cli("account", "create", "--name", "Shop", "--owner-telegram-id", "7")[0] == 0
    code, out, _ = cli("connectors", "add", "1", "tilda")
    assert code == 0
    assert re.search(r"https://desk\.example\.com/hooks/tilda/1/[\w-]{20,}", out)
    code, _, err = cli("connectors", "add", "1", "woocommerce")
    assert code == 1 and "CONNECTOR_SECRET_KEY" in err  # no key configured: refused clearly
    monkeypatch.setenv("CONNECTOR_SECRET_KEY", key.strip())
    code, out, _ = cli("connectors", "add", "1", "woocommerce")
    assert code == 0 and "Secret (shown only now):" in out
    secret = out.strip().splitlines()[-1]
    code, out, _ = cli("connectors", "rotate", "1", "2")
    assert code == 0 and out.strip().splitlines()[-1] != secret
    assert cli("connectors", "pause", "1", "1")[1].strip() == "Connector #1 is paused."
    code, out, _ = cli("connectors", "list", "1")
    assert "#1 tilda paused" in out and "#2 woocommerce active" in out
    assert cli("connectors", "delete", "1", "1")[0] == 0
    assert "#1 tilda" not in cli("connectors", "list", "1")[1]
    code, _, err = cli("connectors", "delete", "1", "1")
    assert code == 1 and "No such connector" in err
