"""`python -m bot billing prepay` and the tariff check of `account create`, run in-process."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.tariff.pricing import add_months, local_date
from shopdesk.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.delenv("TARIFF_CATALOG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_unknown_tariff_is_refused_with_the_known_ones(cli):
    code, out, err = cli(
        "account", "create", "--name", "X", "--owner-telegram-id", "1", "--tariff", "vip"
    )
    assert code == 1 and out == ""
    assert "Unknown tariff vip. Choose one of: start, standard, business, premium." in err


def test_prepay_prints_the_new_date_last_and_counts_a_reference_once(cli):
    assert (
        cli("account", "create", "--name", "Shop", "--owner-telegram-id", "1", "--tariff", "start")[
            0
        ]
        == 0
    )
    today = local_date(datetime.now().astimezone(), "Europe/Moscow")
    code, out, _ = cli("billing", "prepay", "--account", "1", "--months", "3", "--reference", "B-1")
    assert code == 0
    lines = out.strip().splitlines()
    assert "Recorded 3 months, 4\u00a0275,00\u00a0₽" in lines[0]  # 4 500 − 5 %
    assert lines[-1] == add_months(today, 3).isoformat()
    code, out, _ = cli(
        "billing", "prepay", "--account", "1", "--months", "12", "--reference", "B-1"
    )
    assert code == 0 and "already recorded" in out
    assert out.strip().splitlines()[-1] == add_months(today, 3).isoformat()


def test_prepay_refusals(cli):
    cli("account", "create", "--name", "Shop", "--owner-telegram-id", "1")
    code, _, err = cli("billing", "prepay", "--account", "1", "--months", "2")
    assert code == 1 and "An invoice covers 1, 3, 6, 12 months." in err
    code, _, err = cli("billing", "prepay", "--account", "9", "--months", "1")
    assert code == 1 and "No account with id 9." in err


def test_a_bad_catalog_setting_stops_with_the_variable_name(cli, monkeypatch, tmp_path):
    (tmp_path / "bad.toml").write_text("extra_user_price = 1\n", encoding="utf-8")
    monkeypatch.setenv("TARIFF_CATALOG", str(tmp_path / "bad.toml"))
    code, _, err = cli("migrate")
    assert code == 2 and "TARIFF_CATALOG" in err and "bad tariff catalog" in err
