"""Times a sales report over 100,000 orders on SQLite (the default database).

    .venv/bin/python scripts/bench_reports.py [--orders 100000]

Prints the time of each report and EXPLAIN QUERY PLAN of the aggregate; the target is < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from core.clock import FrozenClock
from core.db.engine import create_engine, session_factory
from core.db.migrate import upgrade
from core.db.uow import UnitOfWorkFactory
from core.orders.models import Order, OrderStatus
from core.reports.periods import PeriodKind, local_today, period_of
from core.reports.service import report_orders, sales_report
from tests.conftest import T0
from tests.support.factories import new_account
from tests.support.orders import many_managers


async def fill(uows: UnitOfWorkFactory, account_id: int, members: list[int], count: int) -> None:
    rng = random.Random(8)
    statuses = [OrderStatus.COMPLETED] * 6 + [OrderStatus.CANCELLED, OrderStatus.IN_PROGRESS]
    rows = []
    for i in range(count):
        created = T0 - timedelta(minutes=rng.randrange(0, 60 * 24 * 120))
        status = rng.choice(statuses)
        rows.append(
            {
                "account_id": account_id,
                "number": f"B{i}",
                "source": "api",
                "customer_name": "Bench",
                "items": [],
                "total": rng.randrange(10_000, 5_000_000),
                "currency": "RUB",
                "status": status,
                "assignee_id": rng.choice(members),
                "created_at": created,
                "updated_at": created,
                "completed_at": created + timedelta(hours=5)
                if status == OrderStatus.COMPLETED
                else None,
            }
        )
    async with uows() as uow:
        for start in range(0, count, 5000):
            await uow.session.execute(insert(Order), rows[start : start + 5000])
        await uow.commit()


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
        await upgrade(engine)
        uows = UnitOfWorkFactory(session_factory(engine), FrozenClock(T0))
        owner = await new_account(uows)
        managers = await many_managers(uows, owner.account_id, 10)
        await fill(uows, owner.account_id, [m.member_id for m in managers], count)
        async with engine.connect() as conn:
            plan = await conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT assignee_id, count(*), sum(total) FROM orders "
                    "WHERE account_id = 1 AND status = 'completed' AND completed_at >= '2026-10-01'"
                    " AND completed_at < '2026-11-01' AND currency = 'RUB' GROUP BY assignee_id"
                )
            )
            print("plan:", " | ".join(row[-1] for row in plan))
        today = local_today(T0, owner.timezone)
        for kind in (PeriodKind.TODAY, PeriodKind.MONTH, PeriodKind.LAST_MONTH):
            period = period_of(kind, today)
            began = time.perf_counter()
            async with uows() as uow:
                report = await sales_report(uow, owner, period)
            took = time.perf_counter() - began
            print(f"{kind:>10}: {took * 1000:7.1f} ms, {report.totals.completed} completed")
        began = time.perf_counter()
        async with uows() as uow:
            orders = await report_orders(uow, owner, period_of(PeriodKind.LAST_MONTH, today))
        print(f"orders csv rows: {len(orders)} in {(time.perf_counter() - began) * 1000:.1f} ms")
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().orders))
