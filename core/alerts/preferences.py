"""Who gets alerts and when: admins opt in or out (/alerts), the owner sets quiet hours."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, PermissionDenied
from core.members.actor import Actor
from core.members.models import Member
from core.members.permissions import Perm
from core.notifications.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True, slots=True)
class AlertSettings:
    is_owner: bool
    receives: bool  # the owner always; an admin when opted in
    quiet_hours: bool
    timezone: str


async def _settings(uow: UnitOfWork, actor: Actor) -> AlertSettings:
    member = await uow.session.get(Member, actor.member_id)
    account = await uow.session.get(Account, actor.account_id)
    return AlertSettings(
        is_owner=actor.is_owner,
        receives=actor.is_owner or member.alerts_opt_in,
        quiet_hours=account.quiet_hours,
        timezone=account.timezone,
    )


async def alert_settings(uow: UnitOfWork, actor: Actor) -> AlertSettings:
    """Alerts go to the owner and to admins (users.manage) who opted in."""
    actor.require(Perm.USERS_MANAGE)
    return await _settings(uow, actor)


async def quiet_settings(uow: UnitOfWork, actor: Actor) -> AlertSettings:
    """Quiet hours are the owner's to set."""
    if not actor.is_owner:
        raise PermissionDenied("owner_only")
    return await _settings(uow, actor)


async def set_alerts(uow: UnitOfWork, actor: Actor, on: bool) -> AlertSettings:
    """An admin opts in to (or out of) the account's alerts."""
    actor.require(Perm.USERS_MANAGE)
    if actor.is_owner:
        raise InvalidInput("owner_always_alerted")
    actor.require_writable()
    member = await uow.session.get(Member, actor.member_id)
    if member.alerts_opt_in != on:
        member.alerts_opt_in = on
        audit(
            uow,
            actor,
            "member.alerts_changed",
            member,
            before={"alerts": not on},
            after={"alerts": on},
        )
        await uow.commit()
    return await _settings(uow, actor)


async def set_quiet_hours(uow: UnitOfWork, actor: Actor, on: bool) -> AlertSettings:
    """The owner holds alerts overnight (22:00–08:00 local), or lets them out at any hour.

    Turning quiet hours off also releases the alerts held right now.
    """
    if not actor.is_owner:
        raise PermissionDenied("owner_only")
    actor.require_writable()
    account = await uow.session.get(Account, actor.account_id)
    if account.quiet_hours != on:
        account.quiet_hours = on
        if not on:
            await uow.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.account_id == account.id,
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.attempts == 0,
                    OutboxMessage.not_before > uow.clock.now(),
                )
                .values(not_before=uow.clock.now())
                .execution_options(synchronize_session=False)
            )
        before, after = {"quiet_hours": not on}, {"quiet_hours": on}
        audit(uow, actor, "account.quiet_hours_changed", account, before=before, after=after)
        await uow.commit()
    return await _settings(uow, actor)
