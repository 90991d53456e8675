"""The real bot process killed with SIGKILL in the middle of a batch, then started again.

Each test runs the process until its batch is part done, stops it where a kill cuts the most
(SIGSTOP, or on PostgreSQL a transaction held at its COMMIT), kills it (SIGKILL: no handler, no
rollback, no flush), starts a new process on the same database and checks that every piece of
work is done exactly once. The one exception, a message Telegram accepted whose answer the dead
process never recorded, is measured at the kill and is the only repeat allowed (docs/reliability.md,
Reliability: the known limit).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from core.notifications.models import OutboxMessage
from tests.support.botprocess import bot_env, eventually
from tests.support.factories import OWNER_TG, new_account
from tests.support.journal import shops_due_today
from tests.support.telegram_standin import Call, TelegramStandIn


def sends(standin: TelegramStandIn) -> list[Call]:
    """sendMessage calls Telegram accepted (whether or not the bot read the answer)."""
    return [c for c in standin.calls_of("sendMessage") if c.result is not None]


async def outbox_rows(peek) -> list[tuple]:
    """(id, chat_id, status, lease_owner, telegram_message_id) of every outbox row."""
    return await peek.rows(
        "SELECT id, chat_id, status, lease_owner, telegram_message_id FROM outbox ORDER BY id"
    )


def unrecorded(calls: list[Call], rows: list[tuple]) -> list[Call]:
    """Accepted sends that no outbox row records as its delivery."""
    recorded = {row[4] for row in rows if row[2] == "sent"}
    return [c for c in calls if c.result["message_id"] not in recorded]


def leased(rows: list[tuple]) -> list[tuple]:
    """Rows a sender had claimed and not finished: its messages in flight."""
    return [r for r in rows if r[2] == "pending" and r[3] is not None]


async def test_a_sender_killed_mid_batch_resends_only_what_telegram_took_unrecorded(
    bot_database, standin, start_bot
):
    db = bot_database
    owner = await new_account(db.uows)
    total = 150  # more than one claim (100): the next batch is still waiting at the kill
    now = datetime.now(UTC) - timedelta(seconds=1)
    async with db.uows() as uow:
        uow.session.add_all(
            OutboxMessage(
                account_id=owner.account_id,
                event_key=f"crash:{n}",
                chat_id=700_000 + n,
                kind="test",
                params={"n": n},
                locale="en",
                status="pending",
                not_before=now,
                attempts=0,
                created_at=now,
            )
            for n in range(total)
        )
        await uow.commit()
    # 50 sends a second, each answered 1 s late: once one is recorded, dozens are in flight.
    standin.send_delay = 1.0
    env = bot_env(standin, db.url, SEND_PER_SECOND="50", OUTBOX_LEASE_SECONDS="5")
    first = start_bot(env)
    await standin.wait_for("sendMessage", timeout=90)

    async def mid_batch() -> bool:
        recorded = await db.peek.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
        return recorded > 0 and any(not c.answered for c in sends(standin))

    await first.freeze_when(mid_batch)
    unanswered = [c for c in sends(standin) if not c.answered]
    await first.kill()
    await standin.wait_disconnected()  # what the dead process had written out is all read
    at_kill = await outbox_rows(db.peek)
    window = unrecorded(sends(standin), at_kill)
    assert 0 < sum(r[2] == "sent" for r in at_kill) < total, "not killed in the middle"
    # The window: messages Telegram took whose answer the process had not recorded. Those still
    # unanswered at the kill are in it, and it is never larger than what the sender had claimed.
    assert {id(c) for c in unanswered} <= {id(c) for c in window}
    assert 0 < len(window) <= len(leased(at_kill))

    standin.send_delay = 0
    second = start_bot(env)

    async def all_sent() -> bool:
        return all(r[2] == "sent" for r in await outbox_rows(db.peek))

    # The dead sender's claims go out when its lease (5 s here) ends.
    await eventually(all_sent, "every message sent", second)
    assert await second.stop() == 0, second.log()

    final = await outbox_rows(db.peek)
    calls = sends(standin)
    by_message_id = {c.result["message_id"]: c for c in calls}
    for _id, chat_id, _status, _lease, message_id in final:
        assert int(by_message_id[message_id].params["chat_id"]) == chat_id
    # Every message reached its chat; the only repeats are the window measured at the kill.
    assert unrecorded(calls, final) == window
    repeated = {int(c.params["chat_id"]) for c in window}
    assert Counter(int(c.params["chat_id"]) for c in calls) == {
        700_000 + n: 1 + (700_000 + n in repeated) for n in range(total)
    }


SHOPS, SERVICES, PRICE = 20, 3, 79_000  # chat_widget: 790 ₽ a month


async def charges_per_service(peek) -> Counter:
    rows = await peek.rows(
        "SELECT service_id, count(*) FROM ledger_entries WHERE kind = 'charge'"
        " AND service_id IS NOT NULL GROUP BY service_id"
    )
    return Counter(dict(rows))


async def test_renewals_killed_mid_batch_charge_every_service_once(
    bot_database, standin, start_bot, commit_gate
):
    db = bot_database
    due = await shops_due_today(db.uows, SHOPS, SERVICES, PRICE)
    can_pay, paying, ended = due.can_pay, due.paying, due.ended
    ordered = await charges_per_service(db.peek)  # the order charges, one per service
    renewing = sum(can_pay.values())
    gate = None
    if not db.peek.is_sqlite:
        # The transaction that extends the services of a shop half-way down the list waits at
        # its COMMIT, everything written.
        middle = paying[len(paying) // 2]
        gate = await commit_gate(
            "connected_services",
            f"EXISTS (SELECT 1 FROM connected_services WHERE MINE AND account_id = {middle})",
            "UPDATE",
        )
    env = bot_env(
        standin,
        db.url,
        # A run every 3 s: an account skipped while an alerts run held its lock is taken soon.
        RENEWALS_EVERY_MINUTES="0.05",
        OUTBOX_LEASE_SECONDS="5",
        SEND_PER_CHAT_PER_SECOND="20",  # an owner hears of three services at once
    )
    first = start_bot(env)

    async def renewed() -> int:
        return (await charges_per_service(db.peek)).total() - ordered.total()

    async def mid_renewal() -> bool:
        return 0 < await renewed() < renewing and await db.peek.write_open()

    if gate is None:
        # SQLite: stopped where some shops are renewed and a write transaction is open.
        await standin.wait_for("setMyCommands", timeout=90)  # the jobs start right after
        await first.freeze_when(mid_renewal)
    else:
        await gate.held(first)
    await first.kill()
    if gate is not None:
        await gate.cut()
        await db.peek.wait_transactions_gone()  # the dead process's other transactions
    await standin.wait_disconnected()
    at_kill = await outbox_rows(db.peek)
    window = unrecorded(sends(standin), at_kill)
    assert 0 < await renewed() < renewing, "not killed in the middle\n" + first.log()
    assert len(window) <= len(leased(at_kill)), (window, at_kill, first.log())

    second = start_bot(env)

    async def settled() -> bool:
        services = await db.peek.rows("SELECT id, status, ends_on FROM connected_services")
        pending = await db.peek.scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")
        return pending == 0 and all(
            (status == "active" and str(ends_on) > str(ended))
            if can_pay[service_id]
            else status == "suspended"
            for service_id, status, ends_on in services
        )

    await eventually(settled, "every service renewed or suspended, every notice sent", second)
    assert await second.stop() == 0, second.log()

    charged = await charges_per_service(db.peek)
    assert charged - ordered == Counter({s: 1 for s, pays in can_pay.items() if pays})
    balances = await db.peek.rows(
        "SELECT b.account_id, b.amount, (SELECT sum(amount) FROM ledger_entries l"
        " WHERE l.account_id = b.account_id) FROM balances b"
    )
    assert len(balances) == SHOPS
    assert all(cached == total == 0 for _account, cached, total in balances)
    suspended = await db.peek.scalar("SELECT count(*) FROM outbox WHERE kind = 'service.suspended'")
    assert suspended == len(can_pay) - renewing  # one notice per suspended service
    assert unrecorded(sends(standin), await outbox_rows(db.peek)) == window


async def test_a_csv_import_killed_mid_transaction_stores_nothing_and_then_all_once(
    bot_database, standin, start_bot, commit_gate
):
    db = bot_database
    owner = await new_account(db.uows)
    rows = 2000
    data = b"number;customer;total\n" + "".join(
        f"C-{n};Customer {n};{100 + n}\n" for n in range(rows)
    ).encode("utf-8")

    async def imported() -> list[str]:
        found = await db.peek.rows(
            "SELECT number FROM orders WHERE account_id = :a", a=owner.account_id
        )
        return [number for (number,) in found]

    def replies() -> list[Call]:
        return [c for c in standin.calls_of("sendMessage") if int(c.params["chat_id"]) == OWNER_TG]

    gate = None
    if not db.peek.is_sqlite:
        # The transaction that would make the last row visible waits at its COMMIT. (Were the
        # import committed in parts, the parts before it would be stored at the kill.)
        gate = await commit_gate(
            "orders",
            f"(SELECT count(*) FROM orders WHERE account_id = {owner.account_id}) >= {rows}",
        )
    env = bot_env(standin, db.url)
    first = start_bot(env)
    await standin.wait_for("setMyCommands", timeout=90)
    update_id = standin.push_document(OWNER_TG, "orders.csv", data)
    if gate is None:
        # SQLite shows nothing of a transaction but its lock: the file is in, and the update's
        # write transaction is open.
        async def downloaded() -> bool:
            return standin.downloads_served > 0

        await eventually(downloaded, "the file downloaded", first)
        await first.freeze_when(db.peek.write_open)
    else:
        await gate.held(first)
    await first.kill()
    if gate is not None:
        await gate.cut()
        await db.peek.wait_transactions_gone()
    assert await imported() == []
    assert replies() == []  # the member heard nothing: the file is theirs to send again
    assert standin.confirmed > update_id  # polling had taken it: Telegram will not resend it

    second = start_bot(env)
    standin.push_document(OWNER_TG, "orders.csv", data)
    await standin.wait_for("sendMessage", timeout=90)
    assert await second.stop() == 0, second.log()
    [reply] = replies()
    assert f"{rows}" in reply.params["text"]
    stored = await imported()
    assert len(stored) == rows and set(stored) == {f"C-{n}" for n in range(rows)}
