"""Creating accounts (the CLI and the demo are the only ways in)."""

from __future__ import annotations

from dataclasses import dataclass

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import InvalidInput
from core.members.menu import set_member_menu
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import BUILTIN_ROLES, OWNER
from core.settings import check_timezone
from core.tariff.catalog import Catalog, load_catalog
from core.tasks.due import DayHours


@dataclass(frozen=True, slots=True)
class NewAccount:
    name: str
    owner_telegram_id: int
    owner_name: str = "Owner"
    tariff_code: str = "standard"
    timezone: str = "Europe/Moscow"
    locale: str = "ru"


async def create_account(
    uow: UnitOfWork, cmd: NewAccount, *, catalog: Catalog | None = None
) -> Account:
    name = cmd.name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("account_name")
    if cmd.owner_telegram_id <= 0:
        raise InvalidInput("telegram_id")
    try:
        check_timezone(cmd.timezone)
    except ValueError:
        raise InvalidInput("timezone", value=cmd.timezone) from None
    tariff = (catalog or load_catalog()).tariff(cmd.tariff_code)
    now = uow.clock.now()
    account = Account(
        name=name,
        tariff_code=tariff.code,
        timezone=cmd.timezone,
        locale=cmd.locale,
        currency="RUB",
        created_at=now,
    )
    uow.session.add(account)
    await uow.session.flush()
    roles = {
        code: Role(account_id=account.id, code=code, builtin=True, permissions=sorted(perms))
        for code, perms in BUILTIN_ROLES.items()
    }
    uow.session.add_all(roles.values())
    await uow.session.flush()
    owner = Member(
        account_id=account.id,
        telegram_id=cmd.owner_telegram_id,
        full_name=cmd.owner_name,
        role_id=roles[OWNER].id,
        status=MemberStatus.ACTIVE,
        joined_at=now,
    )
    uow.session.add(owner)
    await uow.session.flush()
    after = {"name": name, "owner_telegram_id": cmd.owner_telegram_id, "tariff": tariff.code}
    audit(uow, None, "account.created", account, after=after)
    await set_member_menu(uow, owner, board=True)
    await uow.commit()
    return account


# ---- settings other parts read ---------------------------------------------------------------

DEFAULT_REGION = "RU"


def phone_region(account: Account, default: str = DEFAULT_REGION) -> str:
    """The region (ISO 3166 alpha-2) a phone number without +country code is read in: the
    account's country (/settings), else the configured default (DEFAULT_PHONE_REGION)."""
    return (account.country or default).upper()


def day_hours(account: Account) -> DayHours:
    """What "утром"/"вечером" and a due day without a time mean for this account."""
    return DayHours(morning=account.morning_hour or 9, evening=account.evening_hour or 19)
