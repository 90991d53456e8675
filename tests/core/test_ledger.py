from __future__ import annotations

import ast
import asyncio
import random
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.journal import billing
from core.ledger.models import EntryKind
from core.ledger.service import InsufficientFunds, post
from tests.support.factories import join, new_account
from tests.support.journal import entries, fund, money


async def test_top_up_credits_and_is_audited(uows):
    owner = await new_account(uows)
    result = await fund(uows, owner, 5_000_00, "PP-1001")
    assert (result.replayed, result.balance, result.entry.amount) == (False, 5_000_00, 5_000_00)
    assert await money(uows, owner.account_id) == (5_000_00, 5_000_00)
    async with uows() as uow:
        entry = (
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "balance.topped_up")
            )
        ).one()
    assert (entry.actor_id, entry.reason) == (owner.member_id, "PP-1001")
    assert (entry.before, entry.after) == (
        {"balance": 0},
        {"balance": 5_000_00, "amount": 5_000_00},
    )


async def test_same_reference_never_credits_twice(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 5_000_00, "PP-1001")
    again = await fund(uows, owner, 5_000_00, "  pp-1001 ")
    assert again.replayed and again.balance == 5_000_00
    with pytest.raises(Conflict) as err:
        await fund(uows, owner, 7_000_00, "PP-1001")
    assert (err.value.code, err.value.params["amount"]) == ("reference_used", 5_000_00)
    assert await money(uows, owner.account_id) == (5_000_00, 5_000_00)
    assert len(await entries(uows, owner.account_id)) == 1


async def test_concurrent_top_ups_with_one_reference_credit_once(uows):
    owner = await new_account(uows)
    results = await asyncio.gather(*(fund(uows, owner, 1_000_00, "PP-7") for _ in range(6)))
    assert sorted(r.replayed for r in results) == [False] + [True] * 5
    assert await money(uows, owner.account_id) == (1_000_00, 1_000_00)


@pytest.mark.parametrize(
    ("amount", "code"),
    [(0, "amount_positive"), (-5, "amount_positive"), (10**10, "amount_too_large")],
)
async def test_bad_top_up_changes_nothing(uows, amount, code):
    owner = await new_account(uows)
    with pytest.raises(InvalidInput) as err:
        await fund(uows, owner, amount)
    assert err.value.code == code
    assert await entries(uows, owner.account_id) == []


async def test_only_billing_managers_top_up(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2001, "admin")
    with pytest.raises(PermissionDenied):
        await fund(uows, admin, 1_00)
    assert await money(uows, owner.account_id) == (0, 0)


async def test_operator_top_up_needs_an_existing_account(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        result = await billing.operator_top_up(uow, owner.account_id, 300_00, "BANK-1")
    assert (result.balance, result.entry.actor_id) == (300_00, None)
    with pytest.raises(NotFound):
        async with uows() as uow:
            await billing.operator_top_up(uow, 999, 300_00, "BANK-2")


async def test_charge_below_zero_is_refused_with_the_shortfall(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)
    with pytest.raises(InsufficientFunds) as err:
        async with uows() as uow:
            await post(
                uow,
                account_id=owner.account_id,
                kind=EntryKind.CHARGE,
                amount=-1_240_00 - 1_000_00,
                key="charge:x",
                reason="test",
            )
    assert err.value.params == {"price": 2_240_00, "balance": 1_000_00, "shortfall": 1_240_00}
    assert await money(uows, owner.account_id) == (1_000_00, 1_000_00)


async def test_repeated_key_returns_the_first_entry(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)
    results = []
    for _ in range(2):
        async with uows() as uow:
            results.append(
                await post(
                    uow,
                    account_id=owner.account_id,
                    kind=EntryKind.CHARGE,
                    amount=-400_00,
                    key="charge:once",
                    reason="test",
                )
            )
            await uow.commit()
    assert [r.replayed for r in results] == [False, True]
    assert results[0].entry.id == results[1].entry.id
    assert await money(uows, owner.account_id) == (600_00, 600_00)


async def test_parallel_charges_never_take_the_balance_below_zero(uows):
    owner = await new_account(uows)
    await fund(uows, owner, 1_000_00)

    async def charge(i: int) -> bool:
        try:
            async with uows() as uow:
                await post(
                    uow,
                    account_id=owner.account_id,
                    kind=EntryKind.CHARGE,
                    amount=-300_00,
                    key=f"charge:{i}",
                    reason="test",
                )
                await uow.commit()
            return True
        except InsufficientFunds:
            return False

    results = await asyncio.gather(*(charge(i) for i in range(8)))
    assert results.count(True) == 3
    assert await money(uows, owner.account_id) == (100_00, 100_00)


async def test_cached_balance_always_equals_the_ledger(uows):
    owner = await new_account(uows)
    other = await new_account(uows, owner_tg=2, name="Other")
    rng = random.Random(5)
    for step in range(30):
        account = rng.choice([owner, other])
        kind = rng.choice(list(EntryKind))
        amount = rng.randint(1, 2_000_00) * (-1 if kind == EntryKind.CHARGE else 1)
        try:
            async with uows() as uow:
                posted = await post(
                    uow,
                    account_id=account.account_id,
                    kind=kind,
                    amount=amount,
                    key=f"k{step % 25}",  # some keys repeat: those change nothing
                    reason="test",
                )
                await uow.commit()
            assert posted.entry.balance_after >= 0
        except InsufficientFunds:
            pass
        for who in (owner, other):
            cached, total = await money(uows, who.account_id)
            assert cached == total >= 0


# One writer of the ledger: nothing outside core/ledger/ inserts, updates or deletes its rows.
LEDGER_PACKAGE = Path(__file__).resolve().parents[2] / "core" / "ledger"
SKIPPED_DIRS = {".venv", "tests", ".git", "__pycache__", "migrations"}
LEDGER_SQL = re.compile(r"\b(insert\s+into|update|delete\s+from)\s+\"?ledger_entries\b", re.I)
WRITES = {"insert", "update", "delete", "add", "add_all", "merge", "bulk_insert_mappings"}
READS = {"select", "select_from", "join", "outerjoin", "exists", "aliased"}


def ledger_writes(source: str) -> list[int]:
    """Lines of `source` that write the ledger table: an entry built (`LedgerEntry(...)`), an
    insert/update/delete of the model or its table (also through a name bound to it), the table
    handed to a helper (`_insert_from(batch, LedgerEntry.__table__, ...)`), or SQL text that
    writes `ledger_entries`."""
    tree = ast.parse(source)
    bound: set[str] = set()  # names that hold the model or its table, e.g. `t = LedgerEntry...`
    tables: set[str] = set()  # of these, the ones holding the table itself

    def mentions(node: ast.AST) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and (sub.id == "LedgerEntry" or sub.id in bound):
                return True
            if isinstance(sub, ast.Attribute) and sub.attr == "LedgerEntry":
                return True
            if isinstance(sub, ast.Constant) and sub.value == "ledger_entries":
                return True
        return False

    def is_table(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in tables
        return isinstance(node, ast.Attribute) and node.attr == "__table__" and mentions(node)

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
            for target, value in list(pairs):
                if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
                    pairs += list(zip(target.elts, value.elts, strict=False))
            for target, value in pairs:
                if isinstance(target, ast.Name) and mentions(value):
                    bound.add(target.id)
                    if is_table(value):
                        tables.add(target.id)
    found = []
    for node in ast.walk(tree):
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and LEDGER_SQL.search(text):
            found.append(node.lineno)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name == "LedgerEntry":
            found.append(node.lineno)  # an entry built: it only exists to be added
        elif name in WRITES and isinstance(func, ast.Attribute) and mentions(func.value):
            found.append(node.lineno)  # LedgerEntry.__table__.insert(), table.insert()
        elif name in WRITES and any(mentions(arg) for arg in node.args):
            found.append(node.lineno)  # insert(LedgerEntry), session.add(entry_of_the_model)
        elif name not in READS and any(
            is_table(arg) for arg in [*node.args, *(k.value for k in node.keywords)]
        ):
            found.append(node.lineno)  # the table handed to a helper that writes it
    return found


def test_only_core_ledger_writes_the_ledger():
    root = LEDGER_PACKAGE.parents[1]
    offenders = []
    tops = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
    paths = [p for d in tops if d.name not in SKIPPED_DIRS for p in d.rglob("*.py")]
    assert (root / "core" / "journal" / "sweep.py") in paths
    for path in paths:
        parts = set(path.relative_to(root).parts)
        if parts & SKIPPED_DIRS or path.is_relative_to(LEDGER_PACKAGE):
            continue
        lines = ledger_writes(path.read_text(encoding="utf-8"))
        offenders += [f"{path.relative_to(root)}:{line}" for line in lines]
    assert offenders == [], "write the ledger through core.ledger.service"


@pytest.mark.parametrize(
    "source",
    [
        "session.add(LedgerEntry(account_id=1, amount=5))",
        "await session.execute(LedgerEntry.__table__.insert(), rows)",
        "await session.execute(insert(LedgerEntry).values(amount=1))",
        "s, entry = Service.__table__, LedgerEntry.__table__\nentry.insert().from_select(c, q)",
        "table = models.LedgerEntry.__table__\nawait session.execute(update(table))",
        "await session.execute(text('INSERT INTO ledger_entries (amount) VALUES (1)'))",
        "await session.execute(delete(LedgerEntry).where(LedgerEntry.id == 1))",
        "await _insert_from(batch, LedgerEntry.__table__, columns, query, count)",
    ],
)
def test_the_ledger_scan_catches_every_way_of_writing(source):
    assert ledger_writes(source) != []


def test_the_ledger_scan_lets_reads_through():
    reads = (
        "rows = select(LedgerEntry.amount).where(LedgerEntry.account_id == 1)\n"
        "e = LedgerEntry.__table__.c\nq = select(e.balance_after)\n"
        "text('SELECT sum(amount) FROM ledger_entries')\n"
        "table = Service.__table__\nupdate(table).values(version=1)\n"
    )
    assert ledger_writes(reads) == []
