"""The permission matrix: what each built-in role may do. The built-in roles are made from it,
the bot is tested against it (tests/bot/test_permission_matrix.py), and docs/permissions.md is
generated from it: `python -m core.members.permissions > docs/permissions.md`."""

from __future__ import annotations

from enum import StrEnum


class Perm(StrEnum):
    ORDERS_VIEW_OWN = "orders.view_own"
    ORDERS_VIEW_TEAM = "orders.view_team"
    ORDERS_VIEW_ALL = "orders.view_all"
    ORDERS_CLAIM = "orders.claim"
    ORDERS_ASSIGN = "orders.assign"
    ORDERS_CREATE = "orders.create"
    TASKS_MANAGE = "tasks.manage"
    SERVICES_VIEW = "services.view"
    SERVICES_MANAGE = "services.manage"
    REPORTS_OWN = "reports.own"
    REPORTS_TEAM = "reports.team"
    AUDIT_VIEW = "audit.view"
    AUDIT_VIEW_OWN = "audit.view_own"  # the order log of one's own orders only
    USERS_MANAGE = "users.manage"
    BILLING_MANAGE = "billing.manage"


OWNER = "owner"
ADMIN = "admin"
MANAGER = "manager"
ROLES = (OWNER, ADMIN, MANAGER)


class Grant(StrEnum):
    """One cell of the matrix."""

    ALLOWED = "✓"
    OWN_ONLY = "own orders only"
    REFUSED = ""


# An "own orders only" cell grants this narrower permission instead (a full grant includes it).
OWN_ONLY_AS = {Perm.AUDIT_VIEW: Perm.AUDIT_VIEW_OWN}

Y, OWN, N = Grant.ALLOWED, Grant.OWN_ONLY, Grant.REFUSED

# permission, what it covers, then the cells for owner, admin, manager.
MATRIX: tuple[tuple[Perm, str, tuple[Grant, Grant, Grant]], ...] = (
    (Perm.ORDERS_VIEW_OWN, "full card of orders assigned to me", (Y, Y, Y)),
    (
        Perm.ORDERS_VIEW_TEAM,
        "colleagues' orders: number, status, total, assignee, date — no customer contacts, "
        "no edits",
        (Y, Y, Y),
    ),
    (Perm.ORDERS_VIEW_ALL, "every order in full", (Y, Y, N)),
    (Perm.ORDERS_CLAIM, "take an unassigned order", (Y, Y, Y)),
    (Perm.ORDERS_ASSIGN, "assign / reassign / unassign anyone's order", (Y, Y, N)),
    (Perm.ORDERS_CREATE, "manual entry, CSV import", (Y, Y, N)),
    (Perm.TASKS_MANAGE, "add tasks to any order; close own tasks", (Y, Y, Y)),
    (Perm.SERVICES_VIEW, "journal, balance, forecast", (Y, Y, Y)),
    (Perm.SERVICES_MANAGE, "order, auto-renew toggle, return, disconnect", (Y, Y, N)),
    (Perm.REPORTS_OWN, "my own sales figures", (Y, Y, Y)),
    (Perm.REPORTS_TEAM, "everyone's sales figures", (Y, Y, N)),
    (Perm.AUDIT_VIEW, "order log, account request history", (Y, Y, OWN)),
    (Perm.USERS_MANAGE, "invite, block, unblock, change role", (Y, Y, N)),
    (Perm.BILLING_MANAGE, "tariff, prepay, top-up records", (Y, N, N)),
)


def grants() -> dict[tuple[Perm, str], Grant]:
    """{(permission, role): cell} for every row and role of the matrix."""
    return {
        (perm, role): cell
        for perm, _covers, cells in MATRIX
        for role, cell in zip(ROLES, cells, strict=True)
    }


def _role(role: str) -> frozenset[Perm]:
    perms: set[Perm] = set()
    for (perm, of_role), cell in grants().items():
        if of_role != role or cell == Grant.REFUSED:
            continue
        if cell == Grant.ALLOWED:
            perms.add(perm)
        if perm in OWN_ONLY_AS:
            perms.add(OWN_ONLY_AS[perm])
    return frozenset(perms)


# Seeded in this order for every new account (core/accounts/service.py).
BUILTIN_ROLES: dict[str, frozenset[Perm]] = {role: _role(role) for role in ROLES}


def parse_perms(values: list[str]) -> frozenset[Perm]:
    """Stored permission names → Perm; names no longer known are dropped."""
    known = {p.value for p in Perm}
    return frozenset(Perm(v) for v in values if v in known)


def markdown() -> str:
    """docs/permissions.md."""
    lines = [
        "# Permissions",
        "",
        "<!-- Generated from core/members/permissions.py by "
        "`python -m core.members.permissions > docs/permissions.md`; do not edit by hand. -->",
        "",
        "An **account** is one business. A Telegram user is a **member** of an account with a "
        "**role**; a role is a named set of permissions. What the built-in roles may do:",
        "",
        "| permission | " + " | ".join(ROLES) + " |",
        "|---" * (len(ROLES) + 1) + "|",
    ]
    for perm, covers, cells in MATRIX:
        lines.append(f"| {perm.value} ({covers}) | " + " | ".join(c or "—" for c in cells) + " |")
    lines += [
        "",
        "Custom roles (`/newrole code base +perm -perm`) copy a built-in role with permissions "
        "toggled. There is exactly one owner; the owner can hand ownership over with `/transfer`. "
        "Nobody can block, demote or remove the owner, and a member who holds users.manage can "
        "be blocked, demoted or removed only by someone who also holds billing.manage.",
        "",
        "`tests/bot/test_permission_matrix.py` tries every role × permission through the bot, "
        "and a test checks that this page is the one the table generates.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
