"""The renewal job's set-based pass (`core.journal.sweep`: runs of alike services, the others
batched by `Batch`) against the one-service-at-a-time path through the ORM: the same rows, the
same order of charging, the same notices — with a short balance, replayed keys, missed days and
chunk boundaries, as a top-up runs it and as the scheduled job does."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import insert, select

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.journal import lifecycle, notices, renewals, sweep
from core.journal.calendar import local_today
from core.journal.models import LAPSED, PENDING, ConnectedService, PoolResource, ServiceStatus
from core.ledger.models import EntryKind, LedgerEntry
from core.ledger.service import lock_balance, post
from core.notifications.models import OutboxMessage
from tests.core.test_journal import run
from tests.support.factories import new_account
from tests.support.journal import entries, fund, load, money

TODAY = date(2026, 11, 22)  # the clock's local day in Moscow


async def add_service(uows, account_id: int, price: int, **values: Any) -> int:
    row = {
        "account_id": account_id,
        "catalog_code": "chat_widget",
        "channel": "test",
        "status": ServiceStatus.ACTIVE,
        "price": price,
        "period_months": 1,
        "setup_needed": False,
        "auto_renew": True,
        "started_on": None,
        "ends_on": TODAY,
        "anchor_day": None,
        "version": 3,
        "ordered_at": uows.clock.now(),
        **values,
    }
    if row["ends_on"] is not None and row["anchor_day"] is None:
        row["anchor_day"] = row["ends_on"].day
    async with uows() as uow:
        service_id = (
            await uow.session.execute(
                insert(ConnectedService).values(row).returning(ConnectedService.id)
            )
        ).scalar_one()
        await uow.commit()
    return service_id


async def charged_before(uows, account_id: int, service_id: int, period_start: date, price: int):
    """A period charged by an earlier run whose service change did not stick (a restore)."""
    async with uows() as uow:
        await post(
            uow,
            account_id=account_id,
            kind=EntryKind.CHARGE,
            amount=-price,
            key=f"renew:{service_id}:{period_start.isoformat()}",
            reason="service.renewal",
            note="chat_widget",
            service_id=service_id,
        )
        await uow.commit()


def _next_due_day(services: list[ConnectedService]) -> date | None:
    days = []
    for s in services:
        if s.status == ServiceStatus.ACTIVE and s.ends_on is not None:
            days.append(s.ends_on)
        elif s.status in LAPSED and s.lapsed_on is not None:
            days.append(lifecycle.return_closes_on(s))
    return min(days, default=None)


async def one_by_one(uow, account_id: int) -> list[lifecycle.Transition]:
    """The lifecycle as it ran before the batch path: ORM objects, each change written at once."""
    account = await uow.session.get(Account, account_id)
    today = local_today(uow.clock.now(), account.timezone)
    services = await lifecycle.open_services(uow, account_id)
    done = []
    while (day := _next_due_day(services)) is not None and day < today:
        for service in lifecycle.in_renewal_order(services):
            if service.status not in PENDING:
                done += await lifecycle.advance(uow, service, day, catching_up=True)
    for service in lifecycle.in_renewal_order(services):
        done += await lifecycle.advance(uow, service, today)
    await notices.announce(uow, account, done)
    return done


async def written(uow, account_id: int) -> dict[str, list]:
    """Everything the lifecycle writes, without the ids a sequence hands out."""
    await uow.session.flush()
    s, e, a, o = ConnectedService, LedgerEntry, AuditEntry, OutboxMessage
    queries = {
        "services": select(
            s.id,
            s.status,
            s.started_on,
            s.ends_on,
            s.anchor_day,
            s.lapsed_on,
            s.version,
            s.closed_at,
        ).order_by(s.id),
        "ledger": select(
            e.kind, e.amount, e.balance_after, e.idempotency_key, e.reason, e.note, e.service_id
        ).order_by(e.id),
        # Each service's entries in order; entries of different services may interleave.
        "audit": select(a.action, a.subject_id, a.actor_id, a.before, a.after, a.reason)
        .where(a.subject_type == "service")
        .order_by(a.subject_id, a.id),
        "outbox": select(o.event_key, o.chat_id, o.kind, o.params, o.not_before).order_by(o.id),
        "pool": select(PoolResource.value, PoolResource.service_id).order_by(PoolResource.id),
    }
    found = {}
    for name, query in queries.items():
        rows = await uow.session.execute(query.where(*_of(query, account_id)))
        found[name] = [tuple(r) for r in rows]
    return found


def _of(query, account_id: int) -> list:
    table = query.get_final_froms()[0]
    return [table.c.account_id == account_id] if "account_id" in table.c else []


async def outcome(uows, account_id: int, path) -> tuple[list, dict]:
    """What `path` does to the account, rolled back afterwards so the next path starts alike."""
    async with uows() as uow:
        await lock_balance(uow, account_id)
        done = await path(uow, account_id)
        found = await written(uow, account_id)
        await uow.rollback()
    transitions = [(t.action, t.service_id, t.charged, t.version, t.details) for t in done]
    return transitions, found


async def batch(uow, account_id: int) -> list[lifecycle.Transition]:
    return await renewals.advance_account(uow, account_id, uow.clock.now())


async def job(uow, account_id: int) -> sweep.Swept:
    """The scheduled job's way: plain renewals counted, not kept."""
    return await sweep.advance_account(uow, account_id, uow.clock.now(), keep=False)


async def a_bit_of_everything(uows, owner) -> dict[str, int]:
    """Services in every state the job meets, on a balance that covers only some renewals."""
    aid = owner.account_id
    await fund(uows, owner, 500_00 + 400_00 + 1_000_00 + 200_00 + 50_00 + 50_00 + 10_00)
    ids = {
        # Missed on 20 Nov: replayed first.
        "missed": await add_service(uows, aid, 500_00, ends_on=date(2026, 11, 20)),
        # Suspended a week ago: resumes today if the money is there, before today's renewals.
        "suspended": await add_service(
            uows,
            aid,
            400_00,
            status=ServiceStatus.SUSPENDED,
            ends_on=date(2026, 11, 15),
            lapsed_on=date(2026, 11, 15),
        ),
        # The return windows closed today and, missed, on 19 Nov.
        "closing": await add_service(
            uows,
            aid,
            300_00,
            status=ServiceStatus.DISCONNECTED,
            auto_renew=False,
            ends_on=date(2026, 11, 8),
            lapsed_on=date(2026, 11, 8),
        ),
        "closed_late": await add_service(
            uows,
            aid,
            300_00,
            status=ServiceStatus.SUSPENDED,
            ends_on=date(2026, 11, 5),
            lapsed_on=date(2026, 11, 5),
        ),
        "ordered": await add_service(uows, aid, 700_00, status=ServiceStatus.ORDERED, ends_on=None),
        "needs_setup": await add_service(
            uows, aid, 700_00, status=ServiceStatus.NEEDS_SETUP, ends_on=None
        ),
        "renewed": await add_service(uows, aid, 1_000_00),
        "auto_renew_off": await add_service(uows, aid, 300_00, auto_renew=False),
        "too_dear": await add_service(uows, aid, 2_000_00),
        # Cheaper, due after the one that did not fit: it still gets the rest.
        "cheap": await add_service(uows, aid, 200_00),
        "replayed": await add_service(uows, aid, 50_00),
        "later": await add_service(uows, aid, 100_00, ends_on=date(2026, 12, 5)),
        "month_end": await add_service(uows, aid, 10_00, ends_on=TODAY, anchor_day=31),
    }
    async with uows() as uow:
        held = {"service_id": ids["closing"], "held_since": uow.clock.now()}
        uow.session.add(PoolResource(kind="tracking_number", value="+70000000001", **held))
        await uow.commit()
    await charged_before(uows, aid, ids["replayed"], TODAY, 50_00)
    return ids


@pytest.mark.parametrize("chunk", [1, 2, 5, sweep.CHUNK])
async def test_the_batch_writes_what_one_service_at_a_time_writes(uows, monkeypatch, chunk):
    owner = await new_account(uows)
    ids = await a_bit_of_everything(uows, owner)
    monkeypatch.setattr(sweep, "CHUNK", chunk)
    expected = await outcome(uows, owner.account_id, one_by_one)
    got = await outcome(uows, owner.account_id, batch)
    assert got == expected
    # And what that is, so that an error in both paths shows too.
    by_id = {v: k for k, v in ids.items()}
    transitions, rows = got
    assert [(a, by_id[s], c) for a, s, c, *_ in transitions] == [
        ("service.closed", "closed_late", 0),  # replayed day 19 Nov
        ("service.renewed", "missed", 500_00),  # replayed day 20 Nov
        ("service.activated", "ordered", 0),
        ("service.closed", "closing", 0),
        ("service.resumed", "suspended", 400_00),
        ("service.renewed", "renewed", 1_000_00),
        ("service.disconnected", "auto_renew_off", 0),
        ("service.suspended", "too_dear", 0),
        ("service.renewed", "cheap", 200_00),
        ("service.renewed", "replayed", 0),
        ("service.renewed", "month_end", 10_00),
    ]
    charges = [(by_id[sid], after) for kind, _, after, _, _, _, sid in rows["ledger"] if sid]
    assert charges == [
        ("replayed", 2_160_00),  # charged before this run, not again
        ("missed", 1_660_00),
        ("suspended", 1_260_00),
        ("renewed", 260_00),
        ("cheap", 60_00),
        ("month_end", 50_00),
    ]
    assert [(kind, params["balance"]) for _, _, kind, params, _ in rows["outbox"]] == [
        ("service.closed", 50_00),
        ("service.closed", 50_00),
        ("service.resumed", 50_00),
        ("service.disconnected", 50_00),
        ("service.suspended", 50_00),
    ]
    assert rows["pool"] == [("+70000000001", None)]

    async with uows() as uow:
        await lock_balance(uow, owner.account_id)
        swept = await job(uow, owner.account_id)
        assert await written(uow, owner.account_id) == rows
    plain = {ids[name] for name in ("missed", "renewed", "cheap", "month_end")}
    assert swept.count == len(transitions)
    assert [(t.action, t.service_id) for t in swept.transitions] == [
        (a, s) for a, s, *_ in transitions if not (a == "service.renewed" and s in plain)
    ]


async def test_a_replayed_key_extends_without_charging_again(uows):
    owner = await new_account(uows)
    aid = owner.account_id
    await fund(uows, owner, 300_00)  # first: a top-up runs the lifecycle too
    first = await add_service(uows, aid, 100_00)
    second = await add_service(uows, aid, 100_00)
    await charged_before(uows, aid, first, TODAY, 100_00)  # the balance is 200 ₽ now
    assert await run(uows) == [("service.renewed", 0), ("service.renewed", 100_00)]
    assert (
        (await load(uows, first)).ends_on
        == (await load(uows, second)).ends_on
        == date(2026, 12, 22)
    )
    keys = [k for kind, _, k in await entries(uows, aid) if kind == "charge"]
    assert keys == [f"renew:{first}:2026-11-22", f"renew:{second}:2026-11-22"]
    assert await money(uows, aid) == (100_00, 100_00)
    async with uows() as uow:
        after = await uow.session.scalar(
            select(AuditEntry.after).where(
                AuditEntry.subject_type == "service", AuditEntry.subject_id == first
            )
        )
    assert (after["charged"], after["balance"]) == (0, 200_00)  # the first charge's balance
    assert await run(uows) == []


async def test_a_short_balance_across_chunks_pays_the_earliest_due_first(uows, monkeypatch):
    monkeypatch.setattr(sweep, "CHUNK", 3)
    owner = await new_account(uows)
    aid = owner.account_id
    await fund(uows, owner, 450_00)
    # Eight services ending on 22, 21 and 20 Nov in turn: the id order is not the renewal order.
    ends = {}
    for n in range(8):
        day = date(2026, 11, 22 - n % 3)
        ends[await add_service(uows, aid, 100_00, ends_on=day)] = day
    done = await run(uows)
    assert [a for a, _ in done].count("service.renewed") == 4
    due_first = sorted(ends, key=lambda i: (ends[i], i))
    renewed = [i for i in ends if (await load(uows, i)).status == "active"]
    assert sorted(renewed) == sorted(due_first[:4])  # both of 20 Nov, the first two of 21 Nov
    assert await money(uows, aid) == (50_00, 50_00)
    afters = [after for kind, _, after in await ledger_after(uows, aid) if kind == "charge"]
    assert afters == [350_00, 250_00, 150_00, 50_00]
    assert await run(uows) == []  # the suspended ones wait for money


async def ledger_after(uows, account_id: int) -> list[tuple[str, int, int]]:
    async with uows() as uow:
        rows = await uow.session.execute(
            select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.balance_after)
            .where(LedgerEntry.account_id == account_id)
            .order_by(LedgerEntry.id)
        )
        return [tuple(r) for r in rows]


async def test_the_job_renews_a_covered_day_without_reading_each_service(uows, monkeypatch):
    owner = await new_account(uows)
    aid = owner.account_id
    await fund(uows, owner, 10_000_00)
    ids = {
        "ordered": await add_service(uows, aid, 700_00, status=ServiceStatus.ORDERED, ends_on=None),
        "suspended": await add_service(
            uows,
            aid,
            400_00,
            status=ServiceStatus.SUSPENDED,
            ends_on=date(2026, 11, 15),
            lapsed_on=date(2026, 11, 15),
        ),
        "monthly": await add_service(uows, aid, 100_00),
        "quarterly": await add_service(uows, aid, 300_00, period_months=3),
        "month_end": await add_service(uows, aid, 10_00, anchor_day=31),
        "no_anchor": await add_service(uows, aid, 20_00, anchor_day=None),
        "later": await add_service(uows, aid, 100_00, ends_on=date(2026, 12, 5)),
    }
    async with uows() as uow:  # no anchor day yet: `add_service` would set one
        await uow.session.execute(
            ConnectedService.__table__.update()
            .where(ConnectedService.id == ids["no_anchor"])
            .values(anchor_day=None)
        )
        await uow.commit()
    expected, rows = await outcome(uows, aid, one_by_one)

    def not_read(*args):
        raise AssertionError("the covered day was read service by service")

    monkeypatch.setattr(sweep, "_plain_due", not_read)
    async with uows() as uow:
        await lock_balance(uow, aid)
        swept = await job(uow, aid)
        assert await written(uow, aid) == rows
    by_id = {v: k for k, v in ids.items()}
    assert [(a, by_id[s], c) for a, s, c, *_ in expected] == [
        ("service.activated", "ordered", 0),
        ("service.resumed", "suspended", 400_00),
        ("service.renewed", "monthly", 100_00),
        ("service.renewed", "quarterly", 300_00),
        ("service.renewed", "month_end", 10_00),
        ("service.renewed", "no_anchor", 20_00),
    ]
    assert swept.count == 6
    assert [t.action for t in swept.transitions] == ["service.activated", "service.resumed"]
    ends = {by_id[i]: (ends_on, anchor) for i, _, _, ends_on, anchor, *_ in rows["services"]}
    assert ends["quarterly"] == (date(2027, 2, 22), 22)
    assert ends["month_end"] == (date(2026, 12, 31), 31)
    assert ends["no_anchor"] == (date(2026, 12, 22), 22)


async def test_the_job_goes_service_by_service_when_a_period_was_charged_before(uows):
    owner = await new_account(uows)
    aid = owner.account_id
    await fund(uows, owner, 10_000_00)
    first = await add_service(uows, aid, 100_00)
    replayed = await add_service(uows, aid, 200_00)
    last = await add_service(uows, aid, 300_00)
    await charged_before(uows, aid, replayed, TODAY, 200_00)
    expected, rows = await outcome(uows, aid, one_by_one)
    async with uows() as uow:
        await lock_balance(uow, aid)
        swept = await job(uow, aid)
        assert await written(uow, aid) == rows
    assert [(s, c) for _, s, c, *_ in expected] == [
        (first, 100_00),
        (replayed, 0),
        (last, 300_00),
    ]
    assert swept.count == 3
    assert [(t.service_id, t.charged) for t in swept.transitions] == [(replayed, 0)]
