"""What one new order through POST /api/v1/orders costs the database (issue #25): the token is
checked in the order's own transaction, and the statements stay few. Counted, not timed."""

from __future__ import annotations

from sqlalchemy import event, func, select

from core.notifications.models import OutboxMessage
from core.orders.models import ManagerGroup, Order, OrderSubscription
from tests.api.test_intake_api import URL, auth, body

# The token with its account, the customer lookup (one SELECT; a repeat customer who lacks
# nothing needs no savepoint), the order (INSERT … ON CONFLICT DO NOTHING: no holder check
# before it), its audit entry, the announcement's recipients (one SELECT: members and the
# group), its outbox rows (one INSERT).
MOST_STATEMENTS = 6


async def test_one_new_order_is_one_transaction_of_few_statements(
    app, api, token, uows, shop, clock
):
    async with uows() as uow:
        for member in (shop["admin"], shop["m1"]):
            uow.session.add(
                OrderSubscription(
                    account_id=member.account_id, member_id=member.member_id, created_at=clock.now()
                )
            )
        uow.session.add(
            ManagerGroup(
                account_id=shop["owner"].account_id,
                chat_id=-100500,
                title="Managers",
                linked_by=shop["admin"].member_id,
                linked_at=clock.now(),
            )
        )
        await uow.commit()
    statements: list[str] = []
    transactions: list[object] = []
    engine = app.engine.sync_engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    def began(conn) -> None:
        transactions.append(conn)

    # The customer exists already (a repeat buyer), as in the benchmark.
    first = await api.post(URL, json=body(external_id="e-1", number="1"), headers=auth(token))
    assert first.status == 201
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "begin", began)
    try:
        answer = await api.post(URL, json=body(), headers=auth(token))
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "begin", began)
    assert answer.status == 201
    order_id = (await answer.json())["id"]
    async with uows() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Order)) == 2
        announced = await uow.session.scalars(
            select(OutboxMessage.chat_id).where(
                OutboxMessage.event_key == f"order:{order_id}:announced"
            )
        )
        chats = sorted(announced)
    assert chats == sorted([-100500, shop["admin"].telegram_id, shop["m1"].telegram_id])
    assert len(transactions) == 1, statements
    assert len(statements) <= MOST_STATEMENTS, "\n".join(s.split("\n")[0] for s in statements)
    assert sum(s.startswith("INSERT INTO orders") for s in statements) == 1
    assert not any(s.startswith("SELECT orders.") for s in statements)  # no read before it
