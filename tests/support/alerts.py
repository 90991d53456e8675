"""Running the scheduled jobs and reading the outbox, for the alerts tests."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from core.accounts.models import Account
from core.db.uow import UnitOfWorkFactory
from core.jobs import all_jobs, run_all
from core.members.models import Member
from core.notifications.models import OutboxMessage
from core.settings import Settings


def msk(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment given in Moscow time, as aware UTC."""
    local = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Europe/Moscow"))
    return local.astimezone(UTC)


async def tick(uows: UnitOfWorkFactory) -> dict[str, int]:
    """One run of every scheduled job, as the scheduler (or the console's /clock) does it."""
    return await run_all(uows, all_jobs(Settings(_env_file=None)))


async def outbox(uows: UnitOfWorkFactory, kind: str | None = None) -> list[OutboxMessage]:
    async with uows() as uow:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(await uow.session.scalars(query))


async def events(uows: UnitOfWorkFactory) -> list[tuple[str, int]]:
    """(kind, chat) of every outbox row but the morning digest's, in the order written."""
    return [(m.kind, m.chat_id) for m in await outbox(uows) if m.kind != "digest"]


async def opt_in(uows: UnitOfWorkFactory, member_id: int, locale: str | None = None) -> None:
    async with uows() as uow:
        values = {"alerts_opt_in": True}
        if locale:
            values["locale"] = locale
        await uow.session.execute(update(Member).where(Member.id == member_id).values(**values))
        await uow.commit()


async def set_account(uows: UnitOfWorkFactory, account_id: int, **values) -> None:
    async with uows() as uow:
        await uow.session.execute(update(Account).where(Account.id == account_id).values(**values))
        await uow.commit()
