"""One account's due transitions, the way the renewal job (and a top-up) runs them.

A day's pass takes the account's due services in renewal order — due first, paid first. Most of
them are *plain*: active, their period ending that day. A plain service's outcome needs nothing
but its price, its auto-renew flag and the balance (`rule.at_period_end`): renewed, suspended or
disconnected. Which services are due at all is the rule's SQL predicate (`rule.due`), and "the
balance covers them all" is `rule.covers_all`: the rule module is the one place to change. Plain
services with the same outcome, consecutive in renewal order, form a *run* (those with auto-
renew off are counted apart: the database tells them apart), written whatever its length with
one INSERT … SELECT into the ledger (built and run by `core.ledger.service`, the ledger's only
writer), one into the audit log and one UPDATE of the services, all computed by the database
from the services' rows. Every other due service — an order to switch on, a lapsed service to
close or resume, a period that was charged before — goes through `lifecycle.advance` one by one,
its writes batched by `Batch`. Charges are written in renewal order, so the ledger reads as if
the services had been charged one after the other; `tests/core/test_renewal_batch.py` checks
that the rows are those the one-by-one path writes (only the audit entries of different services
may interleave differently).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    select,
    update,
)
from sqlalchemy.engine import Row

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.db.base import UTCDateTime
from core.db.sql import json_object, plan_each_statement
from core.db.uow import UnitOfWork
from core.journal import notices, rule
from core.journal.books import Batch, ServiceState, renewal_key, state_columns
from core.journal.calendar import add_months, local_today
from core.journal.lifecycle import Transition, advance, last_return_day
from core.journal.models import LAPSED, ConnectedService, ServiceStatus
from core.journal.rule import RETURN_WINDOW, Outcome
from core.ledger.models import EntryKind, LedgerEntry
from core.ledger.service import balance_of, entries_from, post_from

# Services per round of statements: bounds memory and statement size, not results.
CHUNK = 2_000

RENEWED = "service.renewed"
SUSPENDED = f"service.{ServiceStatus.SUSPENDED}"
DISCONNECTED = f"service.{ServiceStatus.DISCONNECTED}"
ACTIONS = {Outcome.RENEW: RENEWED, Outcome.SUSPEND: SUSPENDED, Outcome.DISCONNECT: DISCONNECTED}


@dataclass(slots=True)
class Swept:
    """What a run over an account did."""

    transitions: list[Transition]  # all of them; without plain renewals unless kept
    count: int  # how many transitions, kept or not


async def advance_account(
    uow: UnitOfWork,
    account_id: int,
    now: datetime,
    *,
    actor_id: int | None = None,
    keep: bool = True,
) -> Swept:
    """Runs every due transition of one account; the caller holds its lock and commits.

    Missed days are replayed in order, each once: after three days of downtime, the renewals of
    day 1 are charged before those of day 2, as if the job had run every day — so a short
    balance goes to the renewals that were due first. The notices of the transitions go to the
    outbox in this same transaction (not to `actor_id`, who is answered directly).

    `keep=False` (the scheduled job): plain renewals are counted, not kept — they are all alike
    and nobody is told about them; every other transition is kept (notices are built from them).
    """
    await plan_each_statement(uow)
    account = await uow.session.get(Account, account_id)
    today = local_today(now, account.timezone)
    batch = Batch(uow, account_id, await balance_of(uow, account_id))
    swept = Swept([], 0)
    replayed = date.min
    while (day := await missed_day(uow, account_id, today)) is not None:
        if day <= replayed:  # every due transition of a day moves its service past that day
            raise RuntimeError(f"account {account_id}: {day} still due after it was replayed")
        await advance_day(batch, day, swept, catching_up=True, keep=keep)
        replayed = day
    await advance_day(batch, today, swept, keep=keep)
    await _refresh_loaded(uow, account_id)
    await notices.announce(uow, account, swept.transitions, exclude_member_id=actor_id)
    return swept


async def missed_day(uow: UnitOfWork, account_id: int, today: date) -> date | None:
    """The earliest day before `today` on which a transition was due (the job did not run)."""
    s = ConnectedService.__table__.c
    ends, lapsed = (
        await uow.session.execute(
            select(
                func.min(case((s.status == ServiceStatus.ACTIVE, s.ends_on))),
                func.min(case((s.status.in_(LAPSED), s.lapsed_on))),
            ).where(
                s.account_id == account_id,
                # Due on yesterday or before, when nothing starts a period.
                rule.due(s, today - timedelta(days=1), 0, catching_up=True),
            )
        )
    ).one()
    days = [d for d in (ends, lapsed + RETURN_WINDOW if lapsed else None) if d is not None]
    return min(days, default=None)


async def advance_day(
    batch: Batch, day: date, swept: Swept, *, catching_up: bool = False, keep: bool = True
) -> None:
    """Every transition due by `day` on the batch's account, in renewal order, into `swept`.

    `catching_up`: `day` is a missed day being replayed (see `lifecycle.advance`). The order is
    fixed before the first change, as one pass over the account's services would see it.
    """
    others = await _others_due(batch, day, catching_up)
    day_pass = _Pass(batch, day, swept, catching_up, keep)
    if not keep and all(key < day for key, _ in others):
        # They all come before the plain services: done first, then maybe all plain at once.
        for _, service_id in others:
            await day_pass.other(service_id)
        await day_pass.finish()
        if await _renew_all_plain(batch, day, swept):
            return
        others = []
    position = 0
    async for window in _plain_due(batch, day):
        for row in window:
            service_id = row.id
            while position < len(others) and others[position] < (day, service_id):
                await day_pass.other(others[position][1])
                position += 1
            if row.charged_before is None:
                await day_pass.plain(row)
            else:  # its period was charged before: renewed without a charge, by `advance`
                await day_pass.other(service_id)
    for _, service_id in others[position:]:
        await day_pass.other(service_id)
    await day_pass.finish()


async def _renew_all_plain(batch: Batch, day: date, swept: Swept) -> bool:
    """The common case, for the job: every plain service of the day renews — auto-renew on, no
    period charged before, the balance covering them all. Then one run renews them without
    reading them; False (nothing done) otherwise."""
    s = ConnectedService.__table__.c
    session = batch.uow.session
    plain = _plain(batch.account_id, day)
    count, total, off, charged_before, first, last = (
        await session.execute(
            select(
                func.count(),
                cast(func.coalesce(func.sum(s.price), 0), BigInteger),
                func.count(case((s.auto_renew.is_(False), 1))),
                func.count(_charged_before(day)),
                func.min(s.id),
                func.max(s.id),
            ).where(plain)
        )
    ).one()
    if count == 0:
        return True
    if off or charged_before or not rule.covers_all(batch.balance, total):
        return False
    anchor = func.coalesce(s.anchor_day, day.day)
    periods = await session.execute(select(s.period_months, anchor).where(plain).distinct())
    run = _Run(RENEWED, True, batch.balance, first, last, count)
    run.ends = {period: add_months(day, *period) for period in map(tuple, periods)}
    batch.spend(total)
    swept.count += count
    await _write_renewals(batch, day, run)
    await batch.flush()
    return True


def _plain(account_id: int, day: date) -> Any:
    s = ConnectedService.__table__.c
    return and_(s.account_id == account_id, s.status == ServiceStatus.ACTIVE, s.ends_on == day)


async def _others_due(batch: Batch, day: date, catching_up: bool) -> list[tuple[date, int]]:
    """The due services that are not plain, as (renewal order key, id), in renewal order."""
    s = ConnectedService.__table__.c
    due = rule.due(s, day, batch.balance, catching_up=catching_up)
    key = func.coalesce(s.ends_on, s.lapsed_on, date.min)
    rows = await batch.uow.session.execute(
        select(key, s.id)
        .where(s.account_id == batch.account_id, due, not_(_plain(batch.account_id, day)))
        .order_by(key, s.id)
    )
    return [(k, i) for k, i in rows]


async def _plain_due(batch: Batch, day: date):
    """The plain services of `day` in id order (their renewal order), CHUNK rows at a time.

    `charged_before`: the balance after the period's charge, if the ledger has it already.
    """
    s = ConnectedService.__table__.c
    session = batch.uow.session
    plain = _plain(batch.account_id, day)
    # The last id of every CHUNK rows: windows by id range, so no query re-reads the others.
    numbered = select(s.id, func.row_number().over(order_by=s.id).label("n")).where(plain)
    numbered = numbered.subquery()
    ends = list(
        await session.scalars(
            select(numbered.c.id).where(numbered.c.n % CHUNK == 0).order_by(numbered.c.id)
        )
    )
    query = select(
        s.id,
        s.price,
        s.version,
        s.catalog_code,
        s.period_months,
        s.anchor_day,
        s.auto_renew,
        _charged_before(day).label("charged_before"),
    ).order_by(s.id)
    after = 0
    for last in [*ends, None]:
        window = [plain, s.id > after] + ([s.id <= last] if last is not None else [])
        yield (await session.execute(query.where(*window))).all()
        after = last


def _charged_before(day: date) -> Any:
    """Per service: the balance after its renewal for the period starting `day`, if charged.

    A subquery per row, so that every database probes the ledger's unique key for it (a list of
    keys in one query may be filtered row by row over the account's whole ledger instead).
    """
    s, entry = ConnectedService.__table__.c, LedgerEntry.__table__.c
    key = literal("renew:") + cast(s.id, String) + literal(f":{day.isoformat()}")
    return (
        select(entry.balance_after)
        .where(entry.account_id == s.account_id, entry.idempotency_key == key)
        .scalar_subquery()
    )


@dataclass(slots=True)
class _Run:
    """Plain services with one outcome, consecutive among those of the same `auto_renew`:
    written with a few statements."""

    action: str
    auto_renew: bool
    balance: int  # before the run's first renewal
    first: int = 0
    last: int = 0
    count: int = 0
    ends: dict[tuple[int, int], date] = field(default_factory=dict)  # (months, anchor) → end


class _Pass:
    """One day's pass: plain services go into runs, the others wait for `advance` in chunks."""

    def __init__(
        self, batch: Batch, day: date, swept: Swept, catching_up: bool, keep: bool
    ) -> None:
        self.batch = batch
        self.day = day
        self.swept = swept
        self.catching_up = catching_up
        self.keep = keep
        # The open runs: of services with auto-renew on (renewed or suspended) and off
        # (disconnected). The two kinds tell apart by `auto_renew`, so they may overlap.
        self.runs: dict[bool, _Run] = {}
        self.waiting: list[int] = []
        self._details: dict[tuple, dict[str, Any]] = {}

    async def other(self, service_id: int) -> None:
        await self._write_runs()  # whatever comes before it in renewal order is written first
        self.waiting.append(service_id)
        if len(self.waiting) >= CHUNK:
            await self._advance_waiting()

    async def plain(self, row: Row) -> None:
        service_id, price, version, code, months, anchor_day, auto_renew, _ = row
        if self.waiting:
            await self._advance_waiting()  # their charges come first
        batch, day = self.batch, self.day
        action = ACTIONS[rule.at_period_end(price, auto_renew, batch.balance)]
        run = self.runs.get(auto_renew)
        if run is None or run.action != action:
            if run is not None:
                await self._write(self.runs.pop(auto_renew))
            run = self.runs[auto_renew] = _Run(action, auto_renew, batch.balance, service_id)
        run.last = service_id
        run.count += 1
        swept = self.swept
        swept.count += 1
        if action == RENEWED:
            batch.spend(price)
            period = (months, anchor_day or day.day)
            end = run.ends.get(period)
            if end is None:
                end = run.ends[period] = add_months(day, *period)
            if not self.keep:
                return
            details = self._shared(RENEWED, price, end)
            charged = price
        else:
            details = self._shared(action, price, None)
            charged = 0
        transition = Transition(
            batch.account_id, service_id, action, code, charged, version + 1, details
        )
        swept.transitions.append(transition)

    def _shared(self, action: str, price: int, end: date | None) -> dict[str, Any]:
        """The notice details, one dict per distinct value (they are only read)."""
        details = self._details.get((action, price, end))
        if details is None:
            day = self.day.isoformat()
            if end is not None:
                details = {"started_on": day, "ends_on": end.isoformat(), "price": price}
            else:
                return_by = last_return_day(self.day).isoformat()
                details = {"lapsed_on": day, "return_by": return_by, "price": price}
            self._details[(action, price, end)] = details
        return details

    async def finish(self) -> None:
        await self._write_runs()
        await self._advance_waiting()
        await self.batch.flush()  # the balance

    async def _advance_waiting(self) -> None:
        if not self.waiting:
            return
        ids, self.waiting = self.waiting, []
        batch, day = self.batch, self.day
        services = []
        for service, charged_before in await read_states(batch.uow, ids, day):
            services.append(service)
            batch.known(renewal_key(service.id, day), charged_before)
        batch.track(services)
        for service in services:
            done = await advance(batch, service, day, catching_up=self.catching_up)
            self.swept.transitions += done
            self.swept.count += len(done)
        await batch.flush()

    async def _write_runs(self) -> None:
        runs, self.runs = self.runs, {}
        for run in runs.values():
            await self._write(run)

    async def _write(self, run: _Run) -> None:
        if run.action == RENEWED:
            await _write_renewals(self.batch, self.day, run)
        else:
            await _write_lapses(self.batch, self.day, run)


def _run_rows(batch: Batch, day: date, run: _Run) -> Any:
    """Exactly the run's services: plain ones of `day`, in its id range, of its kind."""
    s = ConnectedService.__table__.c
    return and_(
        _plain(batch.account_id, day),
        s.auto_renew.is_(run.auto_renew),
        s.id.between(run.first, run.last),
    )


async def _insert_from(
    batch: Batch, table: Any, columns: list[str], query: Any, count: int
) -> None:
    result = await batch.uow.session.execute(table.insert().from_select(columns, query))
    if result.rowcount != count:
        raise RuntimeError(f"{table.name}: {result.rowcount} rows written for a run of {count}")


async def _write_renewals(batch: Batch, day: date, run: _Run) -> None:
    """The ledger entries, audit entries and new periods of a run of renewals.

    The same rows `lifecycle.renew` writes one by one: the key `renew:{id}:{day}`, the balance
    after each charge (a running sum in id order), `before`/`after` as `snapshot` shows them.
    """
    s = ConnectedService.__table__.c
    rows = _run_rows(batch, day, run)
    now = literal(batch.now(), UTCDateTime())
    iso = day.isoformat()
    balance = cast(
        literal(run.balance, BigInteger) - func.sum(s.price).over(order_by=s.id), BigInteger
    )
    anchor = func.coalesce(s.anchor_day, day.day)

    def new_end(as_text: bool) -> Any:
        return case(
            *(
                (
                    and_(s.period_months == months, anchor == anchor_day),
                    literal(end.isoformat(), String) if as_text else literal(end, Date),
                )
                for (months, anchor_day), end in run.ends.items()
            )
        )

    key = literal("renew:") + cast(s.id, String) + literal(f":{iso}")
    charges = entries_from(
        account_id=s.account_id,
        kind=literal(EntryKind.CHARGE.value),
        amount=-s.price,
        balance_after=balance,
        key=key,
        reason=literal("service.renewal"),
        note=s.catalog_code,
        service_id=s.id,
        actor_id=literal(None, BigInteger),
        created_at=now,
    )
    await post_from(batch.uow, charges.where(rows).order_by(s.id), run.count)
    after = json_object(
        batch.uow,
        "status",
        ServiceStatus.ACTIVE.value,
        "ends_on",
        new_end(as_text=True),
        "started_on",
        iso,
        "charged",
        s.price,
        "balance",
        balance,
    )
    before = {"status": ServiceStatus.ACTIVE.value, "ends_on": iso}
    await _insert_audit(batch, rows, RENEWED, before, after, None, now, run.count)
    await _update(
        batch,
        rows,
        run.count,
        started_on=day,
        ends_on=new_end(as_text=False),
        anchor_day=anchor,
    )


async def _write_lapses(batch: Batch, day: date, run: _Run) -> None:
    """A run of services stopped at the end of their period, as `lifecycle.lapse` does it."""
    status = ServiceStatus.SUSPENDED if run.action == SUSPENDED else ServiceStatus.DISCONNECTED
    reason = "balance short" if status == ServiceStatus.SUSPENDED else "auto-renew off"
    iso = day.isoformat()
    before = {"status": ServiceStatus.ACTIVE.value, "ends_on": iso}
    after = {
        "status": status.value,
        "ends_on": iso,
        "return_until": (day + RETURN_WINDOW).isoformat(),
    }
    rows = _run_rows(batch, day, run)
    now = literal(batch.now(), UTCDateTime())
    after_json = literal(after, JSON)
    await _insert_audit(batch, rows, run.action, before, after_json, reason, now, run.count)
    await _update(batch, rows, run.count, status=status.value, lapsed_on=day)


async def _insert_audit(
    batch: Batch,
    rows: Any,
    action: str,
    before: dict,
    after: Any,
    reason: str | None,
    now: Any,
    count: int,
) -> None:
    s = ConnectedService.__table__.c
    entries = select(
        s.account_id,
        literal(None, BigInteger),
        literal(action),
        literal("service"),
        s.id,
        literal(before, JSON),
        after,
        literal(reason, String),
        now,
    ).where(rows)
    columns = [
        "account_id",
        "actor_id",
        "action",
        "subject_type",
        "subject_id",
        "before",
        "after",
        "reason",
        "created_at",
    ]
    await _insert_from(batch, AuditEntry.__table__, columns, entries.order_by(s.id), count)


async def _update(batch: Batch, rows: Any, count: int, **values: Any) -> None:
    table = ConnectedService.__table__
    result = await batch.uow.session.execute(
        update(table).where(rows).values(version=table.c.version + 1, **values)
    )
    if result.rowcount != count:
        raise RuntimeError(f"services: {result.rowcount} rows changed for a run of {count}")


async def read_states(
    uow: UnitOfWork, ids: list[int], day: date
) -> list[tuple[ServiceState, int | None]]:
    """The services, in the order of `ids`, each with its renewal entry for `day` if charged
    (`day` is the period start `advance` charges, but for a service overdue since before)."""
    s = ConnectedService.__table__.c
    rows = await uow.session.execute(
        select(*state_columns(), _charged_before(day)).where(s.id.in_(ids))
    )
    by_id = {row[0]: (ServiceState(*row[:-1]), row[-1]) for row in rows}
    return [by_id[i] for i in ids]


async def _refresh_loaded(uow: UnitOfWork, account_id: int) -> None:
    """ORM objects of the account's services the session already held are stale now."""
    loaded = [
        o
        for o in uow.session.identity_map.values()
        if isinstance(o, ConnectedService) and o.account_id == account_id
    ]
    for service in loaded:
        await uow.session.refresh(service)
