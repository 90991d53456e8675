"""`python -m bot account topup`, run in-process (the process itself is tested in tests/e2e)."""

from __future__ import annotations

import pytest

from shopdesk.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")

    def run(*args: str) -> tuple[int, list[str], str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out.strip().splitlines(), out.err

    assert run("account", "create", "--name", "Shop", "--owner-telegram-id", "100")[0] == 0
    return run


def test_topup_prints_the_balance_alone_on_the_last_line(cli):
    code, out, _ = cli("account", "topup", "1", "1500,50", "--reference", "PP-1")
    assert code == 0 and "Credited 1500.50 to account 1" in out[0]
    assert out[-1] == "1500.50"
    code, out, _ = cli("account", "topup", "1", "1500.5", "--reference", "pp-1")
    assert code == 0 and "already recorded" in out[0] and "nothing credited" in out[0]
    assert out[-1] == "1500.50"
    assert cli("account", "topup", "1", "200", "--reference", "PP-2")[1][-1] == "1700.50"


def test_topup_refuses_bad_input(cli):
    code, _, err = cli("account", "topup", "1", "abc", "--reference", "X")
    assert code == 2 and "AMOUNT must be rubles" in err
    code, _, err = cli("account", "topup", "99", "10", "--reference", "X")
    assert code == 1 and "No account with id 99" in err
    cli("account", "topup", "1", "10", "--reference", "X")
    code, _, err = cli("account", "topup", "1", "20", "--reference", "X")
    assert code == 1 and "already recorded, for 10,00" in err
    with pytest.raises(SystemExit):
        main(["account", "topup", "1", "10"])  # --reference is required
