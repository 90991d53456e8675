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


def test_topup_reads_amounts_as_the_bot_does(cli):
    code, out, _ = cli("account", "topup", "1", "12 500,50", "--reference", "PP-1042")
    assert code == 0 and "Credited 12500.50 to account 1" in out[0]
    code, out, _ = cli("account", "topup", "1", "12500.50 ₽", "--reference", "PP-1042")
    assert code == 0 and "already recorded" in out[0] and out[-1] == "12500.50"
    code, out, _ = cli("account", "topup", "1", "1\u00a0000,50", "--reference", "PP-1043")
    assert code == 0 and out[-1] == "13501.00"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1,500", "AMOUNT '1,500' can be read as 1\u00a0500,00\u00a0₽ or 1,50\u00a0₽"),
        ("1.500,50", "AMOUNT must be rubles like 12500, '12 500,50' or 12500.50"),
        ("50 000 000", "AMOUNT '50 000 000' is too large: at most 10\u00a0000\u00a0000,00\u00a0₽"),
        ("0", "AMOUNT must be above zero."),
    ],
)
def test_topup_errors_speak_of_its_arguments(cli, amount, message):
    code, out, err = cli("account", "topup", "1", amount, "--reference", "PP-9")
    assert code == 2 and message in err
    assert "/topup" not in err and out == []


@pytest.mark.parametrize("reference", ["", "   "])
def test_topup_refuses_an_empty_reference(cli, reference):
    code, _, err = cli("account", "topup", "1", "100", "--reference", reference)
    assert code == 2 and "--reference is empty" in err
    # the refused top-up credited nothing
    assert cli("account", "topup", "1", "1", "--reference", "PP-1")[1][-1] == "1.00"


def test_topup_reference_too_long_names_the_flag(cli):
    code, _, err = cli("account", "topup", "1", "100", "--reference", "R" * 101)
    assert code == 1 and "--reference is too long: at most 100 characters." in err
