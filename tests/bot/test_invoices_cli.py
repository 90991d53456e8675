"""`python -m bot billing invoice | import-statement | unmatched | assign | cancel-invoice`."""

from __future__ import annotations

import pytest

from shopdesk.cli import main
from tests.support.statements import Doc, statement


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("BOT_TOKEN", "TARIFF_CATALOG", "OPERATOR_DETAILS", "INVOICE_UNDERPAYMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out.replace("\u00a0", " "), err

    return run


def test_the_operator_issues_imports_twice_and_assigns_by_hand(cli, tmp_path):
    assert cli("account", "create", "--name", "Shop", "--owner-telegram-id", "1")[0] == 0
    code, out, _ = cli("billing", "invoice", "--account", "1", "--months", "1", "--pdf", "a.pdf")
    assert code == 0 and out.strip().splitlines()[-1].startswith("SD-")
    number = out.strip().splitlines()[-1]
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")
    assert "3000.00 RUB" in out  # Standard, the owner alone
    file = tmp_path / "statement.txt"
    file.write_bytes(
        statement(
            Doc("15", "3000.00", f"Оплата по счёту № {number}"),
            Doc("16", "50.00", "за услуги"),
            Doc("17", "1 000", "bad amount"),
        )
    )
    code, out, _ = cli("billing", "import-statement", str(file))
    assert code == 1  # a document had a problem: the operator's scripts notice
    assert out.startswith("Statement imported: 1 applied, 1 waiting for you, 0 seen before, 1")
    assert f"No.15: 3,000.00 ₽ → invoice {number} paid; paid through" in out.replace("№", "No.")
    assert "the amount 1 000 can't be read" in out
    code, again, _ = cli("billing", "import-statement", str(file))
    assert "0 applied, 0 waiting for you, 2 seen before" in again
    code, out, _ = cli("billing", "unmatched")
    assert code == 0 and out.startswith("#2  08.12.2026 No.16  50.00 RUB  INN 5001007329")
    code, out, _ = cli("billing", "assign", "2", "--account", "1", "--reason", "phoned")
    assert code == 0 and "0.00 to the invoice, 50.00 to the balance" in out
    code, out, err = cli("billing", "assign", "2", "--account", "1", "--reason", "again")
    assert code == 1 and "Bank payment #2 is already assigned." in err
    assert cli("billing", "unmatched")[1].startswith("No bank payments wait")
    code, out, err = cli("billing", "cancel-invoice", number, "--reason", "test")
    assert code == 1 and "only an invoice awaiting payment can be cancelled" in err


def test_a_statement_that_is_not_one_is_refused_whole(cli, tmp_path):
    file = tmp_path / "statement.csv"
    file.write_text("Дата;Сумма\n01.12.2026;100\n", encoding="cp1251")
    code, _, err = cli("billing", "import-statement", str(file))
    assert code == 1 and "must begin with 1CClientBankExchange" in err
    code, _, err = cli("billing", "import-statement", str(tmp_path / "missing.txt"))
    assert code == 2 and "cannot read" in err
