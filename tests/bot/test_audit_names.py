"""Every action the core writes to the audit log reads as words in /history (both languages come
from the catalogues, checked by tests/test_architecture.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.audit.render import ACTIONS

ROOT = Path(__file__).resolve().parents[2]
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _written_actions() -> set[str]:
    """String literals handed to an audit writer (`audit(...)`, `_audit(...)`, `action=`)."""
    found = set()
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            values = [k.value for k in node.keywords if k.arg == "action"]
            if name in {"audit", "_audit"}:
                values += node.args
            literals = [v.value for v in values if isinstance(v, ast.Constant)]
            found |= {v for v in literals if isinstance(v, str) and ACTION.match(v)}
    return found


def test_every_audited_action_has_a_name_in_the_history():
    written = _written_actions()
    assert len(written) > 20  # the scan finds the writers
    assert sorted(written - set(ACTIONS)) == []
