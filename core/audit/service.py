"""Writing and reading the append-only audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, PermissionDenied
from core.members.actor import Actor
from core.members.models import Member
from core.members.permissions import Perm

HISTORY_PAGE_SIZE = 10


def record(
    uow: UnitOfWork,
    *,
    account_id: int,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Adds an entry to the caller's transaction; it lands with the change or not at all."""
    entry = AuditEntry(
        account_id=account_id,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        before=before,
        after=after,
        reason=reason,
        created_at=uow.clock.now(),
    )
    uow.session.add(entry)
    return entry


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    action: str
    actor_name: str | None
    subject_type: str
    subject_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    created_at: datetime


def _with_actor_names():
    return select(AuditEntry, Member.username, Member.full_name).outerjoin(
        Member, Member.id == AuditEntry.actor_id
    )


def _history_row(entry: AuditEntry, username: str | None, full_name: str | None) -> HistoryRow:
    return HistoryRow(
        id=entry.id,
        action=entry.action,
        actor_name=(f"@{username}" if username else full_name) if entry.actor_id else None,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        before=entry.before,
        after=entry.after,
        reason=entry.reason,
        created_at=entry.created_at,
    )


async def subject_log(
    uow: UnitOfWork, account_id: int, subject_type: str, subject_id: int, *, limit: int = 20
) -> list[HistoryRow]:
    """One subject's entries (an order's or a service's log), newest first.

    The caller has checked that the actor may see the subject."""
    result = await uow.session.execute(
        _with_actor_names()
        .where(
            AuditEntry.account_id == account_id,
            AuditEntry.subject_type == subject_type,
            AuditEntry.subject_id == subject_id,
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return [_history_row(*row) for row in result]


@dataclass(frozen=True, slots=True)
class HistoryPage:
    rows: list[HistoryRow]
    page: int
    has_next: bool
    member_id: int | None


async def history(
    uow: UnitOfWork, actor: Actor, *, page: int = 0, member_id: int | None = None
) -> HistoryPage:
    """The account-wide request history, newest first, optionally one member's actions."""
    if not actor.can(Perm.AUDIT_VIEW) and not actor.can(Perm.USERS_MANAGE):
        raise PermissionDenied(permission=Perm.AUDIT_VIEW.value)
    if page < 0:
        raise InvalidInput("page_gone")
    query = (
        _with_actor_names()
        .where(AuditEntry.account_id == actor.account_id)
        .order_by(AuditEntry.id.desc())
        .offset(page * HISTORY_PAGE_SIZE)
        .limit(HISTORY_PAGE_SIZE + 1)
    )
    if member_id is not None:
        query = query.where(AuditEntry.actor_id == member_id)
    result = (await uow.session.execute(query)).all()
    if page > 0 and not result:
        raise InvalidInput("page_gone")
    rows = [_history_row(*row) for row in result[:HISTORY_PAGE_SIZE]]
    return HistoryPage(rows, page, len(result) > HISTORY_PAGE_SIZE, member_id)
