"""The renewal rule (`core.journal.rule`) and the set-based pass that follows it.

The property test generates accounts — a balance, services in every state with prices,
periods, auto-renew and periods charged before — and a day up to a few days later, then runs
the per-service path (`lifecycle.advance` over ORM objects, the rule applied one service at a
time) and the fast path (`core.journal.sweep`, as a top-up and as the scheduled job run it)
from the same starting rows: each path in its own transaction, rolled back, so the next one
starts from an identical copy. They must write the same ledger entries, services, audit
entries and outbox rows, row by row. It runs on SQLite, and on PostgreSQL when
TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.clock import FrozenClock
from core.db.engine import session_factory
from core.db.uow import UnitOfWorkFactory
from core.journal import rule
from core.journal.models import ServiceStatus
from core.journal.rule import Outcome, covers, decide, due
from tests.conftest import T0
from tests.core.test_renewal_batch import (
    TODAY,
    add_service,
    batch,
    charged_before,
    job,
    one_by_one,
    outcome,
)
from tests.support.db import copy_sqlite, create_engine
from tests.support.factories import new_account
from tests.support.journal import fund

ACTIVE, SUSPENDED, DISCONNECTED = "active", "suspended", "disconnected"


def test_the_rule_decides_each_state():
    day = date(2026, 11, 22)
    over = {"ends_on": day}

    def outcome_of(status, price=100, auto=True, balance=100, **kw):
        return decide(status, price, auto, balance, day, **kw)

    assert outcome_of(ACTIVE, **over) == Outcome.RENEW  # the balance covers it exactly
    assert outcome_of(ACTIVE, balance=99, **over) == Outcome.SUSPEND
    assert outcome_of(ACTIVE, auto=False, **over) == Outcome.DISCONNECT
    assert outcome_of(ACTIVE, ends_on=day + timedelta(days=1)) == Outcome.KEEP
    assert outcome_of("ordered") == Outcome.ACTIVATE
    assert outcome_of("ordered", catching_up=True) == Outcome.KEEP
    assert outcome_of("needs_setup") == Outcome.KEEP  # an admin starts it
    lapsed_14 = {"lapsed_on": day - timedelta(days=14)}
    lapsed_13 = {"lapsed_on": day - timedelta(days=13)}
    assert outcome_of(SUSPENDED, balance=0, **lapsed_14) == Outcome.CLOSE
    assert outcome_of(DISCONNECTED, **lapsed_14) == Outcome.CLOSE
    assert outcome_of(SUSPENDED, **lapsed_13) == Outcome.RESUME
    assert outcome_of(SUSPENDED, balance=99, **lapsed_13) == Outcome.KEEP
    assert outcome_of(SUSPENDED, catching_up=True, **lapsed_13) == Outcome.KEEP
    assert outcome_of(SUSPENDED, auto=False, **lapsed_13) == Outcome.KEEP
    assert outcome_of(DISCONNECTED, **lapsed_13) == Outcome.KEEP
    assert outcome_of("closed") == Outcome.KEEP


def test_the_sql_predicate_is_built_from_the_same_conditions():
    from core.journal.models import ConnectedService

    sql = str(due(ConnectedService.__table__.c, TODAY, 500, catching_up=False))
    assert "connected_services.price <=" in sql  # `covers`, turned around by SQLAlchemy
    assert "connected_services.ends_on <=" in sql and "connected_services.lapsed_on <=" in sql
    assert covers(500, 500) and not covers(499, 500)


services = st.fixed_dictionaries(
    {
        "status": st.sampled_from(
            [ACTIVE] * 5 + [SUSPENDED, SUSPENDED, DISCONNECTED, "ordered", "needs_setup", "closed"]
        ),
        # Few distinct prices: a balance often covers some services exactly.
        "price": st.sampled_from([100_00, 100_00, 200_00, 300_00]),
        "auto_renew": st.sampled_from([True, True, True, False]),
        "offset": st.integers(-16, 3),  # the end of its period (or when it lapsed) from TODAY
        "period_months": st.sampled_from([1, 1, 3]),
        "anchor_day": st.sampled_from([None, None, 29, 31]),
        "charged_before": st.booleans(),  # the period ending then was charged by an earlier run
    }
)


@st.composite
def accounts(draw) -> dict:
    """A balance, services and a day. The balance is often right at (or a kopeck off) what a
    first few services cost: where "the balance covers it" flips."""
    listed = draw(st.lists(services, max_size=7))
    prices = [s["price"] for s in listed]
    spent = {0, *prices, *(a + b for a in prices for b in prices)}
    spent |= {sum(prices[:n]) for n in range(len(prices) + 1)}
    near = sorted({max(0, total + d) for total in spent for d in (-1, 0, 1)})
    return {
        "balance": draw(
            st.one_of(st.sampled_from(near), st.integers(0, 20).map(lambda n: n * 100_00))
        ),
        "services": listed,
        "days_later": draw(st.integers(0, 3)),  # when the pass runs: missed days come first
    }


def one(status: str, price: int, offset: int = 0, auto_renew: bool = True) -> dict:
    return {
        "status": status,
        "price": price,
        "auto_renew": auto_renew,
        "offset": offset,
        "period_months": 1,
        "anchor_day": None,
        "charged_before": False,
    }


# Always tried, besides the generated ones: the balance exactly at a price, or a kopeck short.
AT_THE_EDGE = [
    {"balance": 300_00, "services": [one(ACTIVE, 100_00), one(ACTIVE, 200_00)], "days_later": 0},
    {"balance": 299_99, "services": [one(ACTIVE, 100_00), one(ACTIVE, 200_00)], "days_later": 0},
    {"balance": 100_00, "services": [one(SUSPENDED, 100_00, -3)], "days_later": 0},
    {"balance": 100_00, "services": [one(ACTIVE, 100_00, -1)], "days_later": 1},
]


async def build(uows, account: dict) -> int:
    owner = await new_account(uows)
    aid = owner.account_id
    # What the pass starts with is `balance`: the periods charged before are paid on top.
    charged = [
        s["price"] for s in account["services"] if s["charged_before"] and s["status"] == ACTIVE
    ]
    if account["balance"] + sum(charged):
        await fund(uows, owner, account["balance"] + sum(charged))
    for s in account["services"]:
        day = TODAY + timedelta(days=s["offset"])
        values = {
            "status": s["status"],
            "auto_renew": s["auto_renew"],
            "period_months": s["period_months"],
            "anchor_day": s["anchor_day"],
        }
        if s["status"] in ("ordered", "needs_setup"):
            values["ends_on"] = None
        elif s["status"] != ACTIVE:
            lapsed = min(day, TODAY - timedelta(days=1))
            values.update(ends_on=lapsed, lapsed_on=lapsed)
        else:
            values["ends_on"] = day
        service_id = await add_service(uows, aid, s["price"], **values)
        if s["charged_before"] and s["status"] == ACTIVE:
            await charged_before(uows, aid, service_id, day, s["price"])
    return aid


async def agree(engine, account: dict) -> list[tuple]:
    """Runs the paths on the account built from `account`; returns the transitions."""
    clock = FrozenClock(T0)
    uows = UnitOfWorkFactory(session_factory(engine), clock)
    aid = await build(uows, account)
    clock.advance(timedelta(days=account["days_later"]))
    expected = await outcome(uows, aid, one_by_one)
    assert await outcome(uows, aid, batch) == expected
    counted = []

    async def the_job(uow, account_id: int):
        swept = await job(uow, account_id)
        counted.append(swept.count)
        return swept.transitions

    job_transitions, job_rows = await outcome(uows, aid, the_job)
    assert job_rows == expected[1]
    assert counted == [len(expected[0])]
    # The job keeps what members hear about; plain renewals are only counted.
    assert job_transitions == [t for t in expected[0] if t[0] != "service.renewed" or t[2] == 0]
    return expected[0]


async def test_one_edit_of_covers_changes_every_path(engine, monkeypatch):
    """The rule changed in one place — renew only if 50 ₽ stay on the balance — and both paths
    follow: the second renewal of the day no longer fits."""
    exact = AT_THE_EDGE[0]  # 300 ₽; 100 ₽ and 200 ₽ due today
    monkeypatch.setattr(rule, "covers", lambda balance, price: balance - price >= 50_00)
    done = await agree(engine, exact)
    assert [(action, charged) for action, _, charged, *_ in done] == [
        ("service.renewed", 100_00),
        ("service.suspended", 0),
    ]


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_the_fast_path_writes_what_the_rule_does(db, request, sqlite_template, tmp_path):
    if db == "postgres":
        schema = request.getfixturevalue("pg_schema")  # skips, saying why, without PostgreSQL

    async def fresh():
        if db == "sqlite":
            return create_engine(copy_sqlite(sqlite_template, tmp_path / "rule.db"))
        engine = schema.engine()
        await schema.truncate(engine)
        return engine

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(accounts())
    @example(AT_THE_EDGE[0])
    @example(AT_THE_EDGE[1])
    @example(AT_THE_EDGE[2])
    @example(AT_THE_EDGE[3])
    def check(account):
        async def go():
            engine = await fresh()
            try:
                await agree(engine, account)
            finally:
                await engine.dispose()

        asyncio.run(go())

    check()


def test_the_statuses_generated_are_the_real_ones():
    assert {ACTIVE, SUSPENDED, DISCONNECTED, "ordered", "needs_setup", "closed"} <= {
        str(s) for s in ServiceStatus
    }
