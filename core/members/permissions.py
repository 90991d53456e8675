"""The permission matrix of DESIGN.md §1."""

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

_MANAGER = frozenset(
    {
        Perm.ORDERS_VIEW_OWN,
        Perm.ORDERS_VIEW_TEAM,
        Perm.ORDERS_CLAIM,
        Perm.TASKS_MANAGE,
        Perm.SERVICES_VIEW,
        Perm.REPORTS_OWN,
        Perm.AUDIT_VIEW_OWN,
    }
)
_ADMIN = _MANAGER | {
    Perm.ORDERS_VIEW_ALL,
    Perm.ORDERS_ASSIGN,
    Perm.ORDERS_CREATE,
    Perm.SERVICES_MANAGE,
    Perm.REPORTS_TEAM,
    Perm.AUDIT_VIEW,
    Perm.USERS_MANAGE,
}
_OWNER = _ADMIN | {Perm.BILLING_MANAGE}

BUILTIN_ROLES: dict[str, frozenset[Perm]] = {OWNER: _OWNER, ADMIN: _ADMIN, MANAGER: _MANAGER}


def parse_perms(values: list[str]) -> frozenset[Perm]:
    """Stored permission names → Perm; names no longer known are dropped."""
    known = {p.value for p in Perm}
    return frozenset(Perm(v) for v in values if v in known)
