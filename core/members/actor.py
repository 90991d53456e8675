"""Who is asking: a member resolved fresh for every update, job or CLI call."""

from __future__ import annotations

from dataclasses import dataclass

from core.accounts.hours import WorkHours
from core.errors import PermissionDenied
from core.members.permissions import OWNER, Perm


@dataclass(frozen=True, slots=True)
class Actor:
    member_id: int
    account_id: int
    telegram_id: int
    role_code: str
    permissions: frozenset[Perm]
    locale: str
    timezone: str
    # The account's paid-through date has passed: members may look but not change anything.
    read_only: bool = False
    # The account's working hours and claim time, read with the member (None: not read; the
    # services that mark late orders then read the account).
    hours: WorkHours | None = None

    @property
    def is_owner(self) -> bool:
        return self.role_code == OWNER

    def can(self, perm: Perm) -> bool:
        return perm in self.permissions

    def require(self, *perms: Perm) -> None:
        for perm in perms:
            if perm not in self.permissions:
                raise PermissionDenied(permission=perm.value)

    def require_writable(self) -> None:
        """Called by every service that changes account data (paying is not one of them)."""
        if self.read_only:
            raise PermissionDenied("account_read_only")
