"""The account's intake API token: random, shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Select, bindparam, select, update

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import DomainError, InvalidInput, NotFound
from core.intake.models import ApiToken
from core.members.actor import Actor
from core.members.permissions import Perm

PREFIX = "sd_"
TOKEN_BYTES = 32  # 256 bits


class Unauthorized(DomainError):
    code = "unauthorized"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str  # the only time the plain token exists outside the caller's hands
    hint: str
    account_id: int
    account_name: str
    rotated: bool  # a previous token was revoked


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _revoke_all(uow: UnitOfWork, account_id: int) -> list[str]:
    hints = list(
        await uow.session.scalars(
            select(ApiToken.hint).where(
                ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None)
            )
        )
    )
    await uow.session.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=uow.clock.now())
    )
    return hints


async def _issue(uow: UnitOfWork, account: Account, actor_id: int | None) -> IssuedToken:
    previous = await _revoke_all(uow, account.id)
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(
        account_id=account.id,
        token_hash=hash_token(token),
        hint=token[:8],
        created_by=actor_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(row)
    await uow.session.flush()
    before = {"hint": previous[-1]} if previous else None
    audit(uow, actor_id, "api_token.issued", row, before=before, after={"hint": row.hint})
    await uow.commit()
    return IssuedToken(token, row.hint, account.id, account.name, rotated=bool(previous))


async def issue_token(uow: UnitOfWork, actor: Actor) -> IssuedToken:
    """/apitoken: creates the account's token, or rotates it (the old one stops working)."""
    actor.require(Perm.ORDERS_CREATE, Perm.USERS_MANAGE)
    actor.require_writable()
    return await _issue(uow, await uow.session.get(Account, actor.account_id), actor.member_id)


async def issue_token_for_account(uow: UnitOfWork, account_id: int) -> IssuedToken:
    """The CLI (the operator is trusted)."""
    account = await uow.session.get(Account, account_id)
    if account is None:
        raise NotFound("account_not_found", account=account_id)
    return await _issue(uow, account, None)


async def revoke_token(uow: UnitOfWork, actor: Actor) -> None:
    actor.require(Perm.ORDERS_CREATE, Perm.USERS_MANAGE)
    actor.require_writable()
    hints = await _revoke_all(uow, actor.account_id)
    if not hints:
        raise InvalidInput("no_api_token")
    audit(uow, actor, "api_token.revoked", None, before={"hint": hints[-1]})
    await uow.commit()


@cache
def _account_by_token() -> Select:
    """Built once: every intake request runs it (each call binds the token's hash)."""
    return (
        select(Account)
        .join(ApiToken, ApiToken.account_id == Account.id)
        .where(ApiToken.token_hash == bindparam("hash"), ApiToken.revoked_at.is_(None))
    )


async def token_account(uow: UnitOfWork, token: str) -> Account:
    """A bearer token → its account; an unknown or revoked token is refused.

    A read-only step of the caller's unit of work, so the order that follows is written in the
    same transaction (on SQLite no lock is held meanwhile). While the caller holds the account,
    the order's own `session.get(Account, …)` finds it in the session and costs no statement."""
    token = token.strip()
    if not token.startswith(PREFIX) or len(token) > 128:
        raise Unauthorized("token_unknown")
    async with uow.reading():
        account = await uow.session.scalar(_account_by_token(), {"hash": hash_token(token)})
    if account is None:
        raise Unauthorized("token_unknown")
    return account
