"""The demo account: a shop to try the product in, without Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from core.accounts.models import Account
from core.accounts.service import NewAccount, create_account
from core.alerts.preferences import set_alerts
from core.db.uow import UnitOfWorkFactory
from core.journal import billing, lifecycle, service
from core.journal.calendar import add_months, local_today
from core.journal.models import ConnectedService
from core.ledger.service import lock_balance
from core.members.access import actor_from, load_member
from core.members.actor import Actor
from core.members.invites import accept_invite, create_invite

DEMO_NAME = "Демо-магазин"


@dataclass(frozen=True, slots=True)
class Persona:
    key: str
    telegram_id: int
    name: str
    username: str
    role: str


PERSONAS: tuple[Persona, ...] = (
    Persona("owner", 100001, "Ольга Смирнова", "olga_owner", "owner"),
    Persona("admin", 100002, "Игорь Петров", "igor_admin", "admin"),
    Persona("manager1", 100011, "Мария Иванова", "maria_m", "manager"),
    Persona("manager2", 100012, "Дмитрий Козлов", "dmitry_m", "manager"),
    Persona("manager3", 100013, "Елена Новикова", "elena_m", "manager"),
)


def persona(key: str) -> Persona:
    for candidate in PERSONAS:
        if candidate.key == key:
            return candidate
    raise KeyError(key)


@dataclass(frozen=True, slots=True)
class Demo:
    account_id: int
    actors: dict[str, Actor]
    created: bool


async def _actor(uows: UnitOfWorkFactory, telegram_id: int) -> Actor | None:
    async with uows() as uow:
        found = await load_member(uow, telegram_id)
    return actor_from(*found) if found else None


async def ensure_demo(uows: UnitOfWorkFactory, *, timezone: str = "Europe/Moscow") -> Demo:
    """Creates the demo account once; later calls find it and change nothing."""
    owner_persona = PERSONAS[0]
    async with uows() as uow:
        account_id = await uow.session.scalar(
            select(Account.id).where(Account.name == DEMO_NAME).order_by(Account.id).limit(1)
        )
    created = account_id is None
    if created:
        async with uows() as uow:
            account = await create_account(
                uow,
                NewAccount(
                    name=DEMO_NAME,
                    owner_telegram_id=owner_persona.telegram_id,
                    owner_name=owner_persona.name,
                    timezone=timezone,
                ),
            )
            account_id = account.id
    owner = await _actor(uows, owner_persona.telegram_id)
    actors = {"owner": owner}
    for member in PERSONAS[1:]:
        actor = await _actor(uows, member.telegram_id)
        if actor is None:
            async with uows() as uow:
                invite = await create_invite(uow, owner, member.role, ttl=timedelta(hours=1))
            async with uows() as uow:
                await accept_invite(
                    uow,
                    invite.token,
                    telegram_id=member.telegram_id,
                    username=member.username,
                    full_name=member.name,
                )
            actor = await _actor(uows, member.telegram_id)
        actors[member.key] = actor
    if created:
        await _seed_services(uows, actors)
    return Demo(account_id, actors, created)


async def _seed_services(uows: UnitOfWorkFactory, actors: dict[str, Actor]) -> None:
    """A balance and two services: the chat widget renews tomorrow and the balance is short,
    so `/clock +1d` in the console shows the suspension and the low-balance alert."""
    owner = actors["owner"]
    async with uows() as uow:
        await set_alerts(uow, actors["admin"], True)
    async with uows() as uow:
        await billing.top_up(uow, owner, 3_000_00, "DEMO-0001")
    async with uows() as uow:
        chat = (await service.order_service(uow, owner, "chat_widget", "demo-chat")).service
    async with uows() as uow:
        # Switched on a month ago, so its period ends tomorrow.
        await lock_balance(uow, owner.account_id)
        tomorrow = local_today(uow.clock.now(), owner.timezone) + timedelta(days=1)
        started = await uow.session.get(ConnectedService, chat.id)
        await lifecycle.activate(uow, started, add_months(tomorrow, -1), None)
        await uow.commit()
    async with uows() as uow:
        calls = (await service.order_service(uow, owner, "call_tracking", "demo-calls")).service
    async with uows() as uow:
        await service.mark_set_up(uow, owner, calls.id)
