"""Writing and reading the append-only audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.journal.models import ConnectedService
from core.members.actor import Actor
from core.members.models import Member
from core.members.permissions import Perm
from core.orders.models import Order
from core.reports.periods import Period

HISTORY_PAGE_SIZE = 10


# The subject an action is about, by the action's prefix when it is not the prefix itself.
SUBJECT_OF = {"task": "order", "tariff": "account"}


def _subject_id(subject: Any) -> int | None:
    return subject if subject is None or isinstance(subject, int) else subject.id


def _subject_type(action: str) -> str:
    """The type of an entry's subject by its action's prefix ("order.claimed" → "order")."""
    prefix = action.partition(".")[0]
    return SUBJECT_OF.get(prefix, prefix)


def _account_of(subject: Any) -> int:
    account_id = (
        subject.id if isinstance(subject, Account) else getattr(subject, "account_id", None)
    )
    if account_id is None:
        raise TypeError(f"the account of {subject!r} is unknown: pass an Actor")
    return account_id


def audit(
    uow: UnitOfWork,
    by: Actor | int | None,
    action: str,
    subject: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    subject_type: str | None = None,
) -> AuditEntry:
    """Adds an entry to the caller's transaction; it lands with the change or not at all.

    `by`: the Actor, or outside a member's update (intake API, CLI, jobs) the id of the member
    who acted, or None for the system. `subject`: the model the entry is about (an order, a
    member, the account…), its id, or None; its type is the action's prefix ("order.claimed"
    → "order", see SUBJECT_OF) unless `subject_type` says otherwise. The account is the
    actor's, else the subject's."""
    if isinstance(by, Actor):
        account_id, actor_id = by.account_id, by.member_id
    else:
        account_id, actor_id = _account_of(subject), by
    entry = AuditEntry(
        account_id=account_id,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type or _subject_type(action),
        subject_id=_subject_id(subject),
        before=before,
        after=after,
        reason=reason,
        created_at=uow.clock.now(),
    )
    uow.session.add(entry)
    return entry


async def audit_each(
    uow: UnitOfWork,
    by: int | None,
    action: str,
    entries: list[tuple[Any, dict[str, Any] | None]],
) -> None:
    """`audit` for many subjects at once, each a (subject, after): written now, in the
    caller's transaction, as one INSERT of plain rows — no ORM objects to flush. For the hot
    path of new orders (every arriving order writes one); `by` as in `audit`, never an Actor."""
    if not entries:
        return
    now = uow.clock.now()
    subject_type = _subject_type(action)
    rows = [
        {
            "account_id": _account_of(subject),
            "actor_id": by,
            "action": action,
            "subject_type": subject_type,
            "subject_id": _subject_id(subject),
            "before": None,
            "after": after,
            "reason": None,
            "created_at": now,
        }
        for subject, after in entries
    ]
    await uow.session.execute(insert(AuditEntry.__table__), rows)


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
    # What a person calls the subject: an order's number, a member's name, a service's catalog
    # code (the adapter names it); None when the subject is gone or has no name (the account).
    subject_label: str | None = None


_LABEL_CHUNK = 500  # ids per query (SQLite limits the parameters of one statement)
# subject type → (model, the column that names it)
_LABELS: dict[str, tuple[Any, Any]] = {
    "order": (Order, Order.number),
    "member": (Member, Member.username),
    "service": (ConnectedService, ConnectedService.catalog_code),
}


async def with_subject_labels(
    uow: UnitOfWork, account_id: int, rows: list[HistoryRow]
) -> list[HistoryRow]:
    """Fills `subject_label` of each row: one query per subject type on the page."""
    labels: dict[tuple[str, int], str] = {}
    for subject_type, (model, column) in _LABELS.items():
        ids = {r.subject_id for r in rows if r.subject_type == subject_type and r.subject_id}
        if not ids:
            continue
        columns = [model.id, column] + ([Member.full_name] if model is Member else [])
        ordered = sorted(ids)
        for start in range(0, len(ordered), _LABEL_CHUNK):
            chunk = ordered[start : start + _LABEL_CHUNK]
            found = await uow.session.execute(
                select(*columns).where(model.account_id == account_id, model.id.in_(chunk))
            )
            for row_id, label, *full_name in found:
                if model is Member:
                    label = f"@{label}" if label else full_name[0]
                labels[subject_type, row_id] = label
    return [replace(r, subject_label=labels.get((r.subject_type, r.subject_id or 0))) for r in rows]


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
    return await with_subject_labels(uow, account_id, [_history_row(*row) for row in result])


# Action types for the /history filter: a group name or one exact action ("order.claimed").
ACTION_GROUPS: dict[str, tuple[str, ...]] = {
    "orders": ("order.",),
    "members": ("member.", "invite.", "role.", "account.created", "account.ownership_"),
    "services": ("service.", "balance."),
    "billing": ("tariff.", "account.requisites_"),
    "settings": ("group.", "api_token.", "account.settings_", "account.quiet_hours_"),
}
_ACTION = re.compile(r"^[a-z_]{1,30}\.[a-z_]{1,30}$")
HISTORY_EXPORT_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    member_id: int | None = None  # the member who acted, or whom the action was about
    action: str | None = None  # a key of ACTION_GROUPS or an exact action name
    period: Period | None = None  # local days in the actor's time zone; None: all time


@dataclass(frozen=True, slots=True)
class HistoryPage:
    rows: list[HistoryRow]
    page: int
    has_next: bool
    member_id: int | None
    action: str | None = None
    period: Period | None = None
    member_name: str | None = None  # of the member filter

    @property
    def filter(self) -> HistoryFilter:
        return HistoryFilter(self.member_id, self.action, self.period)


def check_action(action: str | None) -> str | None:
    if action is None or action in ACTION_GROUPS:
        return action
    cleaned = action.strip().lower()
    if cleaned in ACTION_GROUPS or _ACTION.match(cleaned):
        return cleaned
    raise InvalidInput("history_action", action=action[:40], groups=", ".join(ACTION_GROUPS))


def _require_history(actor: Actor) -> None:
    if not actor.can(Perm.AUDIT_VIEW) and not actor.can(Perm.USERS_MANAGE):
        raise PermissionDenied(permission=Perm.AUDIT_VIEW.value)


def _filtered(actor: Actor, wanted: HistoryFilter):
    query = _with_actor_names().where(AuditEntry.account_id == actor.account_id)
    if wanted.member_id is not None:
        about = and_(AuditEntry.subject_type == "member", AuditEntry.subject_id == wanted.member_id)
        query = query.where(or_(AuditEntry.actor_id == wanted.member_id, about))
    action = check_action(wanted.action)
    if action in ACTION_GROUPS:
        query = query.where(
            or_(*(AuditEntry.action.startswith(p, autoescape=True) for p in ACTION_GROUPS[action]))
        )
    elif action is not None:
        query = query.where(AuditEntry.action == action)
    if wanted.period is not None:
        start, end = wanted.period.bounds(actor.timezone)
        query = query.where(AuditEntry.created_at >= start, AuditEntry.created_at < end)
    return query.order_by(AuditEntry.id.desc())


async def history(
    uow: UnitOfWork,
    actor: Actor,
    *,
    page: int = 0,
    member_id: int | None = None,
    action: str | None = None,
    period: Period | None = None,
) -> HistoryPage:
    """The account-wide request history, newest first, filtered by the member who acted,
    the action type and a period of local days."""
    _require_history(actor)
    if page < 0:
        raise InvalidInput("page_gone")
    action = check_action(action)
    member_name = None
    if member_id is not None:
        member = await uow.session.get(Member, member_id)
        if member is None or member.account_id != actor.account_id:
            raise NotFound("member_not_found", ref=str(member_id))
        member_name = member.display_name
    query = _filtered(actor, HistoryFilter(member_id, action, period))
    query = query.offset(page * HISTORY_PAGE_SIZE).limit(HISTORY_PAGE_SIZE + 1)
    result = (await uow.session.execute(query)).all()
    if page > 0 and not result:
        raise InvalidInput("page_gone")
    rows = [_history_row(*row) for row in result[:HISTORY_PAGE_SIZE]]
    rows = await with_subject_labels(uow, actor.account_id, rows)
    has_next = len(result) > HISTORY_PAGE_SIZE
    return HistoryPage(rows, page, has_next, member_id, action, period, member_name)


async def history_export(
    uow: UnitOfWork, actor: Actor, wanted: HistoryFilter
) -> tuple[list[HistoryRow], bool]:
    """Every entry the filter selects (newest first, up to the export limit) and whether
    the limit cut it short."""
    _require_history(actor)
    query = _filtered(actor, wanted).limit(HISTORY_EXPORT_LIMIT + 1)
    result = (await uow.session.execute(query)).all()
    rows = [_history_row(*row) for row in result[:HISTORY_EXPORT_LIMIT]]
    rows = await with_subject_labels(uow, actor.account_id, rows)
    return rows, len(result) > HISTORY_EXPORT_LIMIT
