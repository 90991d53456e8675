"""The demo account: a shop to try the product in, without Telegram."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core.accounts.hours import working_seconds
from core.accounts.models import Account
from core.accounts.service import NewAccount, create_account, phone_region
from core.alerts.preferences import set_alerts
from core.audit.models import AuditEntry
from core.clock import Clock
from core.customers.intake import link_orders
from core.db.uow import UnitOfWorkFactory
from core.journal import billing, lifecycle, service
from core.journal.calendar import add_months, local_today
from core.journal.models import ConnectedService, ServiceStatus
from core.ledger.service import lock_balance
from core.members.access import actor_from, load_member
from core.members.actor import Actor
from core.members.invites import accept_invite, create_invite
from core.orders.models import Order, OrderSource, OrderStatus
from core.orders.service import CANCEL_REASONS, completion_seconds
from core.tasks.models import Task, TaskStatus

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
        await _seed_orders(uows, actors)
    return Demo(account_id, actors, created)


class _Ago:
    """The demo's clock moved back: the history it writes is spread over its 60 days."""

    def __init__(self, clock: Clock, ago: timedelta) -> None:
        self.clock, self.ago = clock, ago

    def now(self) -> datetime:
        return self.clock.now() - self.ago


def _days_ago(uows: UnitOfWorkFactory, days: int, hours: int = 0) -> UnitOfWorkFactory:
    """Units of work whose clock reads `days` (and `hours`) before now."""
    ago = _Ago(uows.clock, timedelta(days=days, hours=hours))
    return UnitOfWorkFactory(uows.sessions, ago, chat_menus=uows.chat_menus)


async def _seed_services(uows: UnitOfWorkFactory, actors: dict[str, Actor]) -> None:
    """The balance and the services journal, each step on its own day of the demo's 60 and in
    time order, so /balance and /history read like a real shop's: services in every status,
    the chat widget renews tomorrow and the balance (720 ₽) is short, so `/clock +1d` in the
    console shows the suspension and the low-balance alert."""
    owner = actors["owner"]
    async with uows() as uow:
        await set_alerts(uow, actors["admin"], True)
        today = local_today(uow.clock.now(), owner.timezone)
    prices = sum(service.catalog_item(code).price for code, _, _ in _JOURNAL)
    # Both payments come before the first order: a top-up switches on what is waiting for it.
    async with _days_ago(uows, 59, 4)() as uow:
        await billing.top_up(uow, owner, prices, "DEMO-0001")
    async with _days_ago(uows, 58, 2)() as uow:
        await billing.top_up(uow, owner, 3_000_00, "DEMO-0002")
    ordered = {}
    for n, (code, _, _) in enumerate(_JOURNAL):
        async with _days_ago(uows, 57 - 2 * n, 6)() as uow:
            ordered[code] = (await service.order_service(uow, owner, code, f"demo-{code}")).service
    lapses = sorted(
        ((days, code, status) for code, status, days in _JOURNAL if days is not None),
        reverse=True,
    )
    # The other steps, in time order: (days ago, what happens).
    steps: list[tuple[int, str]] = [(29, "chat"), (12, "calls")]
    steps += [(days, code) for days, code, _ in lapses]
    statuses = {code: status for code, status, _ in _JOURNAL}
    for days, step in sorted(steps, reverse=True):
        if step == "chat":
            await _chat_widget(uows, owner, today)
        elif step == "calls":
            async with _days_ago(uows, days, 5)() as uow:
                calls = await service.order_service(uow, owner, "call_tracking", "demo-calls")
            async with _days_ago(uows, days - 1, 2)() as uow:
                await service.mark_set_up(uow, owner, calls.service.id)
        else:
            await _lapse(uows, owner, ordered[step].id, statuses[step], today, days)


async def _chat_widget(uows: UnitOfWorkFactory, owner: Actor, today) -> None:
    """Switched on a month ago, so its period ends tomorrow."""
    start = add_months(today + timedelta(days=1), -1)
    ago = (today - start).days
    async with _days_ago(uows, ago, 2)() as uow:
        chat = (await service.order_service(uow, owner, "chat_widget", "demo-chat")).service
    async with _days_ago(uows, ago, 1)() as uow:
        await lock_balance(uow, owner.account_id)
        started = await uow.session.get(ConnectedService, chat.id)
        await lifecycle.activate(uow, started, start, None)
        await uow.commit()


async def _lapse(
    uows: UnitOfWorkFactory, owner: Actor, service_id: int, status: str, today, days: int
) -> None:
    """A journal service worked one period and stopped `days` ago."""
    async with _days_ago(uows, days, 1)() as uow:
        await lock_balance(uow, owner.account_id)
        stopped = today - timedelta(days=days)
        row = await uow.session.get(ConnectedService, service_id)
        await lifecycle.activate(uow, row, add_months(stopped, -row.period_months), None)
        if status == ServiceStatus.SUSPENDED:
            lapsed, reason = ServiceStatus.SUSPENDED, "balance short"
        else:
            # Switched off by the owner; the closed one's return window has passed since.
            row.auto_renew = False
            lapsed, reason = ServiceStatus.DISCONNECTED, "auto-renew off"
        lifecycle.lapse(row, lapsed, stopped, uow, reason)
        if status == ServiceStatus.CLOSED:
            await lifecycle.close(uow, row)
        await uow.commit()


# Services in the other statuses, paid for by the first top-up.
_JOURNAL = (
    # (catalog code, status, days since it stopped)
    ("multitracking", ServiceStatus.NEEDS_SETUP, None),
    ("analytics_export", ServiceStatus.SUSPENDED, 3),
    ("callback_widget", ServiceStatus.DISCONNECTED, 5),
    ("email_tracking", ServiceStatus.CLOSED, 40),
)


_WOMEN = frozenset(("Анна", "Ольга", "Наталья", "Ирина", "Юлия"))
_FIRST = ("Анна", "Иван", "Сергей", "Ольга", "Павел", "Наталья", "Алексей", "Ирина", "Юлия")
_LAST = ("Кузнецов", "Попов", "Соколов", "Лебедев", "Морозов", "Волков", "Зайцев", "Орлов")
_GOODS = (
    ("Чайник электрический", 2_490_00),
    ("Кофемолка", 1_890_00),
    ("Набор полотенец", 990_00),
    ("Настольная лампа", 1_590_00),
    ("Термокружка", 790_00),
    ("Плед шерстяной", 3_290_00),
    ("Сковорода 28 см", 2_190_00),
    ("Увлажнитель воздуха", 4_490_00),
)
_CITIES = ("Москва", "Санкт-Петербург", "Казань", "Тверь", "Екатеринбург")
_TASKS = (
    "Перезвонить клиенту",
    "Уточнить адрес доставки",
    "Отправить счёт",
    "Проверить наличие на складе",
    "Передать в службу доставки",
)
ORDER_COUNT = 200
DAYS = 60


def _customer(first: str, last: str) -> str:
    """'Анна Орлова', 'Иван Орлов': the surname agrees with the first name."""
    return f"{first} {last}а" if first in _WOMEN else f"{first} {last}"


def _entry(order: Order, at: datetime, action: str, actor, before, after) -> AuditEntry:
    return AuditEntry(
        account_id=order.account_id,
        actor_id=actor,
        action=action,
        subject_type="order",
        subject_id=order.id,
        before=before,
        after={"number": order.number, **after},
        created_at=at,
    )


def _repeat_customers(orders: list[Order]) -> None:
    """Every fifth order (from the 11th) comes from a customer who ordered before, their phone
    written another way ("8 (9…) …"): the customer's card has a history to show. Not drawn
    from the demo's rng, so everything else stays as it was."""
    for i in range(10, len(orders), 5):
        earlier = orders[i - 3 - i % 7]
        orders[i].customer_name = earlier.customer_name
        digits = "".join(c for c in earlier.customer_phone if c.isdigit())[1:]
        orders[i].customer_phone = f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"


async def _seed_orders(uows: UnitOfWorkFactory, actors: dict[str, Actor]) -> None:
    """~200 orders of the last 60 days in every state, with their log, and tasks on some.

    Inserted in one transaction with their audit entries (the times are in the past, which the
    intake cannot do); a fixed seed makes the demo the same every time."""
    rng = random.Random(2026)
    owner, admin = actors["owner"], actors["admin"]
    managers = [actors[f"manager{i}"] for i in (1, 2, 3)]
    names = {a.member_id: f"@{persona(k).username}" for k, a in actors.items()}
    async with uows() as uow:
        now = uow.clock.now().replace(microsecond=0)
        account = await uow.session.get(Account, owner.account_id)
        plans = []
        for n in range(ORDER_COUNT):
            # Newer orders are more often still open.
            age = timedelta(minutes=rng.randrange(20, DAYS * 24 * 60))
            created = now - age
            fresh = age < timedelta(days=2)
            roll = rng.random()
            if fresh:
                status = OrderStatus.NEW if roll < 0.6 else OrderStatus.IN_PROGRESS
            elif roll < 0.68:
                status = OrderStatus.COMPLETED
            elif roll < 0.8:
                status = OrderStatus.CANCELLED
            elif roll < 0.94:
                status = OrderStatus.IN_PROGRESS
            else:
                status = OrderStatus.NEW
            unassigned = status == OrderStatus.NEW or (
                status == OrderStatus.CANCELLED and rng.random() < 0.5
            )
            manager = None if unassigned else rng.choice(managers)
            # Taken within 3–39 minutes (not drawn from rng: the demo's data stays as it was).
            claimed = created + timedelta(minutes=3 + n * 7 % 37) if manager else None
            lines = [rng.choice(_GOODS) for _ in range(rng.choice((1, 1, 2, 3)))]
            items = [{"title": t, "qty": rng.choice((1, 1, 2)), "price": p} for t, p in lines]
            order = Order(
                account_id=account.id,
                number=str(10_001 + n),
                external_id=f"demo-{10_001 + n}",
                source=OrderSource.API if rng.random() < 0.85 else OrderSource.CSV,
                customer_name=_customer(rng.choice(_FIRST), rng.choice(_LAST)),
                customer_phone=f"+7 9{rng.randrange(10, 99)} {rng.randrange(100, 999)}-"
                f"{rng.randrange(10, 99)}-{rng.randrange(10, 99)}",
                customer_email=None,
                customer_address=f"{rng.choice(_CITIES)}, ул. Садовая, {rng.randrange(1, 120)}",
                items=items,
                total=sum(i["qty"] * i["price"] for i in items),
                currency=account.currency,
                comment=None,
                status=status,
                assignee_id=manager.member_id if manager else None,
                claimed_at=claimed,
                claim_wait_seconds=working_seconds(account, created, claimed) if claimed else None,
                # The claim timers of the demo's past have run (no flood at the first /clock).
                claim_step=2,
                placed_at=created,
                created_at=created,
                updated_at=created,
            )
            plans.append((order, manager, age))
        plans.sort(key=lambda plan: plan[0].created_at)
        for i, (order, _, _) in enumerate(plans):
            order.number = str(10_001 + i)
            order.external_id = f"demo-{10_001 + i}"
        _repeat_customers([order for order, _, _ in plans])
        uow.session.add_all([order for order, _, _ in plans])
        await uow.session.flush()
        await link_orders(uow, phone_region(account), [order for order, _, _ in plans])
        entries, tasks = [], []
        for order, manager, age in plans:
            at = order.created_at
            entries.append(
                _entry(
                    order,
                    at,
                    "order.created",
                    None,
                    None,
                    {"total": order.total, "source": order.source},
                )
            )
            if manager is not None:
                at += min(age / 3, timedelta(minutes=rng.randrange(5, 240)))
                who = names[manager.member_id]
                entries.append(
                    _entry(
                        order,
                        at,
                        "order.claimed",
                        manager.member_id,
                        {"assignee": None, "status": "new"},
                        {"assignee": who, "status": "in_progress"},
                    )
                )
            if order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
                closer = manager.member_id if manager else admin.member_id
                before = "in_progress" if manager else "new"
                at += min(age / 2, timedelta(hours=rng.randrange(2, 72)))
                closed = _entry(
                    order,
                    at,
                    "order.status_changed",
                    closer,
                    {"status": before},
                    {"status": str(order.status)},
                )
                if order.status == OrderStatus.CANCELLED:
                    # Not drawn from rng (the rest of the demo stays as it was): by the number.
                    order.cancel_reason = CANCEL_REASONS[int(order.number) % len(CANCEL_REASONS)]
                    closed.reason = order.cancel_reason
                entries.append(closed)
                if order.status == OrderStatus.COMPLETED:
                    order.completed_at = at
                    order.completion_seconds = completion_seconds(order.claimed_at, at)
            order.updated_at = at
            if (
                manager is not None
                and order.status == OrderStatus.IN_PROGRESS
                and rng.random() < 0.5
            ):
                tasks.append(_task(rng, order, manager, now, at))
            elif (
                manager is not None and order.status == OrderStatus.COMPLETED and rng.random() < 0.1
            ):
                tasks.append(_task(rng, order, manager, now, at, done=True))
        # One reminder comes tomorrow: `/clock +1d` as manager1 prints it.
        soon = next(
            t
            for t in tasks
            if t.assignee_id == managers[0].member_id
            and t.due_at > now
            and t.status == TaskStatus.OPEN
        )
        soon.due_at = soon.remind_at = now + timedelta(hours=20)
        uow.session.add_all(tasks)
        await uow.session.flush()
        for task in tasks:
            order = next(o for o, _, _ in plans if o.id == task.order_id)
            after = {
                "task": task.text,
                "assignee": names[task.assignee_id],
                "due": _iso(task.due_at),
            }
            entries.append(
                _entry(order, task.created_at, "task.added", task.author_id, None, after)
            )
            if task.status == TaskStatus.DONE:
                done = {"task": task.text}
                entries.append(
                    _entry(order, task.closed_at, "task.done", task.author_id, None, done)
                )
        # In time order, so the log and /history read as they happened.
        uow.session.add_all(sorted(entries, key=lambda entry: entry.created_at))
        await uow.commit()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _task(rng: random.Random, order: Order, manager: Actor, now, since, done=False) -> Task:
    created = order.created_at + (since - order.created_at) / 3
    if done:
        # Done before the order was completed.
        closed = order.created_at + (since - order.created_at) * 2 / 3
        due = closed + timedelta(hours=rng.randrange(1, 24))
    elif rng.random() < 0.45:
        # Overdue; its reminder went out when it was due.
        due, closed = now - timedelta(hours=rng.randrange(2, 96)), None
    else:
        due, closed = now + timedelta(days=rng.randrange(3, 10), hours=rng.randrange(0, 8)), None
    return Task(
        account_id=order.account_id,
        order_id=order.id,
        text=rng.choice(_TASKS),
        author_id=manager.member_id,
        assignee_id=manager.member_id,
        due_at=due,
        status=TaskStatus.DONE if done else TaskStatus.OPEN,
        created_at=min(created, due),
        updated_at=closed or created,
        closed_at=closed,
        closed_by=manager.member_id if done else None,
        remind_at=due if not done and due > now else None,
        reminded_for=due if not done and due <= now else None,
    )
