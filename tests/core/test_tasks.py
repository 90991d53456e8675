"""Tasks in the core, on SQLite and PostgreSQL: permissions, changes, lists, audit, reminders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.members import service as members
from core.members.models import Member, Role
from core.notifications.models import OutboxMessage
from core.orders.service import claim_order, order_card
from core.tasks import service as tasks
from core.tasks.models import Task, TaskStatus
from core.tasks.reminders import send_due_reminders
from core.tasks.service import Postpone, TaskTab
from core.tasks.views import TaskAction
from tests.support.factories import actor_for, join, new_account
from tests.support.orders import add_order


@pytest.fixture
async def team(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    account = owner.account_id
    orders = {n: await add_order(uows, account, n) for n in ("A", "B", "C")}
    async with uows() as uow:
        await claim_order(uow, petya, orders["A"])
    async with uows() as uow:
        await claim_order(uow, vasya, orders["B"])
    return {"owner": owner, "admin": admin, "petya": petya, "vasya": vasya, **orders}


async def call(uows, fn, *args, **kwargs):
    async with uows() as uow:
        return await fn(uow, *args, **kwargs)


async def add(uows, actor, order_id, text="Позвонить клиенту", due=None, assignee=None):
    return await call(uows, tasks.add_task, actor, order_id, text, due, assignee)


async def stored(uows, task_id) -> Task:
    async with uows() as uow:
        return await uow.session.get(Task, task_id)


async def task_actions(uows, order_id) -> list[tuple[str, dict | None, dict | None]]:
    async with uows() as uow:
        rows = await uow.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.subject_type == "order",
                AuditEntry.subject_id == order_id,
                AuditEntry.action.like("task.%"),
            )
            .order_by(AuditEntry.id)
        )
        return [(e.action, e.before, e.after) for e in rows]


async def outbox_rows(uows) -> list[OutboxMessage]:
    async with uows() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# ---- adding ----------------------------------------------------------------------------------


async def test_a_task_is_the_authors_by_default_and_lands_in_the_order_log(uows, team, clock):
    due = clock.now() + timedelta(hours=2)
    row = await add(uows, team["petya"], team["A"], "  Позвонить клиенту  ", due)
    assert (row.text, row.assignee, row.author, row.order_number) == (
        "Позвонить клиенту",
        "@petya",
        "@petya",
        "A",
    )
    assert row.actions == (TaskAction.DONE, TaskAction.POSTPONE) and not row.overdue
    task = await stored(uows, row.id)
    assert (task.status, task.author_id, task.assignee_id) == (
        "open",
        team["petya"].member_id,
        team["petya"].member_id,
    )
    assert task.due_at == due and task.remind_at == due and task.created_at == clock.now()
    assert await task_actions(uows, team["A"]) == [
        (
            "task.added",
            None,
            {
                "number": "A",
                "task": "Позвонить клиенту",
                "assignee": "@petya",
                "due": due.isoformat(),
            },
        )
    ]
    card = await call(uows, order_card, team["petya"], team["A"])
    assert card.open_tasks == 1
    assert (await outbox_rows(uows)) == []  # nobody else to tell


async def test_any_visible_order_takes_tasks_but_a_hidden_one_does_not(uows, team):
    # A colleague's order is visible in brief, but takes tasks from its assignee and admins only.
    with pytest.raises(PermissionDenied) as err:
        await add(uows, team["petya"], team["B"], "Уточнить адрес у Васи")
    assert err.value.code == "task_colleague_order" and err.value.params["holder"] == "@vasya"
    with pytest.raises(PermissionDenied):
        await call(uows, tasks.start_task, team["petya"], team["B"])
    screen = await call(uows, tasks.order_tasks, team["petya"], team["B"])
    assert not screen.may_add
    row = await add(
        uows, team["admin"], team["B"], "Уточнить адрес у Васи", assignee=team["petya"].member_id
    )
    assert row.order_number == "B"
    async with uows() as uow:
        role = Role(
            account_id=team["owner"].account_id,
            code="solo",
            permissions=["orders.view_own", "tasks.manage"],
        )
        uow.session.add(role)
        await uow.session.flush()
        await uow.session.execute(
            update(Member).where(Member.telegram_id == 3001).values(role_id=role.id)
        )
        await uow.commit()
    vasyas = await add(uows, team["vasya"], team["B"], "Своё")
    solo = await actor_for(uows, 3001)
    with pytest.raises(PermissionDenied) as err:
        await add(uows, solo, team["B"])
    assert err.value.code == "order_hidden"
    assert (await call(uows, tasks.task_row, solo, row.id)).text == "Уточнить адрес у Васи"
    with pytest.raises(PermissionDenied):  # not his, on an order he may not see
        await call(uows, tasks.task_row, solo, vasyas.id)
    with pytest.raises(PermissionDenied):
        await call(uows, tasks.order_tasks, solo, team["B"])
    other = await new_account(uows, owner_tg=9000, name="Other")
    foreign = await add_order(uows, other.account_id, "F")
    with pytest.raises(NotFound):
        await add(uows, team["admin"], foreign)
    async with uows() as uow:
        assert len(list(await uow.session.scalars(select(Task)))) == 2


async def test_only_an_admin_picks_another_assignee_who_is_told(uows, team, clock):
    with pytest.raises(PermissionDenied) as err:
        await add(uows, team["petya"], team["A"], assignee=team["vasya"].member_id)
    assert err.value.code == "task_assign_admins"
    due = clock.now() + timedelta(days=1)
    row = await add(
        uows, team["admin"], team["A"], "Проверить оплату", due, team["petya"].member_id
    )
    assert (row.assignee, row.author) == ("@petya", "@admin")
    [notice] = await outbox_rows(uows)
    assert (notice.kind, notice.chat_id, notice.locale) == ("task_assigned", 3001, "ru")
    assert notice.params == {
        "task_id": row.id,
        "order_id": team["A"],
        "number": "A",
        "text": "Проверить оплату",
        "due": due.isoformat(),
        "tz": "Europe/Moscow",
        "by": "@admin",
    }
    async with uows() as uow:
        await members.block_member(uow, team["admin"], team["vasya"].member_id)
    with pytest.raises(InvalidInput) as err:
        await add(uows, team["admin"], team["A"], assignee=team["vasya"].member_id)
    assert err.value.code == "member_blocked"


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "task_text_empty"), ("   ", "task_text_empty"), ("я" * 1001, "task_text_too_long")],
)
async def test_bad_text_changes_nothing(uows, team, text, code):
    with pytest.raises(InvalidInput) as err:
        await add(uows, team["petya"], team["A"], text)
    assert err.value.code == code
    assert await task_actions(uows, team["A"]) == []


async def test_a_thousand_characters_fit(uows, team):
    row = await add(uows, team["petya"], team["A"], "я" * 1000)
    assert len((await stored(uows, row.id)).text) == 1000


async def test_a_due_time_that_passed_meanwhile_is_refused(uows, team, clock):
    due = clock.now() + timedelta(minutes=1)
    clock.advance(timedelta(minutes=2))  # the member was slow in the dialog
    with pytest.raises(InvalidInput) as err:
        await add(uows, team["petya"], team["A"], due=due)
    assert err.value.code == "due_past"


async def test_the_command_line_names_order_assignee_text_and_due(uows, team):
    row = await call(
        uows, tasks.add_task_from_line, team["admin"], "A @vasya Позвонить клиенту завтра 15:00"
    )
    assert (row.order_number, row.assignee, row.text) == ("A", "@vasya", "Позвонить клиенту")
    assert row.due_at.isoformat() == "2026-11-23T12:00:00+00:00"
    row = await call(uows, tasks.add_task_from_line, team["petya"], "#A Обновить до 2.10")
    assert (row.text, row.due_at) == ("Обновить до 2.10", None)
    for line, code in [
        ("A завтра 15:00", "task_text_empty"),
        ("A Позвонить 31.02 10:00", "due_format"),
        ("A Позвонить вчера +2x", "due_format"),
        ("Z Позвонить", "order_not_found"),
        ("A @nobody Позвонить", "member_not_found"),
    ]:
        with pytest.raises((InvalidInput, NotFound)) as err:
            await call(uows, tasks.add_task_from_line, team["admin"], line)
        assert err.value.code == code, line
    assert len(await task_actions(uows, team["A"])) == 2


# ---- closing, reopening, postponing ---------------------------------------------------------


async def test_close_and_reopen_rules(uows, team, clock):
    row = await add(uows, team["admin"], team["A"], assignee=team["petya"].member_id)
    with pytest.raises(PermissionDenied) as err:
        await call(uows, tasks.close_task, team["vasya"], row.id)
    assert (err.value.code, err.value.params["holder"]) == ("task_now_theirs", "@petya")
    clock.advance(timedelta(minutes=5))
    done = await call(uows, tasks.close_task, team["petya"], row.id)
    assert done.status == TaskStatus.DONE and done.closed_at == clock.now()
    assert done.actions == ()  # petya is not the author: no Reopen for him
    with pytest.raises(InvalidInput) as err:
        await call(uows, tasks.close_task, team["petya"], row.id)
    assert err.value.code == "task_already_done"
    with pytest.raises(PermissionDenied) as err:
        await call(uows, tasks.reopen_task, team["petya"], row.id)
    assert err.value.code == "task_reopen_denied"
    reopened = await call(uows, tasks.reopen_task, team["admin"], row.id)
    assert reopened.status == TaskStatus.OPEN and reopened.closed_at is None
    with pytest.raises(InvalidInput) as err:
        await call(uows, tasks.reopen_task, team["admin"], row.id)
    assert err.value.code == "task_already_open"
    task = await stored(uows, row.id)
    assert (task.status, task.closed_by) == ("open", None)
    actions = [a for a, _b, _c in await task_actions(uows, team["A"])]
    assert actions == ["task.added", "task.done", "task.reopened"]


async def test_the_author_reopens_their_own_task(uows, team):
    row = await add(uows, team["petya"], team["A"])
    await call(uows, tasks.close_task, team["petya"], row.id)
    assert (await call(uows, tasks.reopen_task, team["petya"], row.id)).status == "open"


async def test_postpone_moves_the_due_time_from_due_or_from_now(uows, team, clock):
    due = clock.now() + timedelta(hours=3)
    row = await add(uows, team["petya"], team["A"], due=due)
    later = await call(uows, tasks.postpone_task, team["petya"], row.id, Postpone.HOUR)
    assert later.due_at == due + timedelta(hours=1)
    clock.advance(timedelta(hours=10))  # overdue now: a day from now, not from the old due
    next_day = await call(uows, tasks.postpone_task, team["petya"], row.id, Postpone.DAY)
    assert next_day.due_at == clock.now() + timedelta(days=1)
    task = await stored(uows, row.id)
    assert task.remind_at == task.due_at == next_day.due_at
    postponed = [(b, a["due"]) for act, b, a in await task_actions(uows, team["A"]) if b]
    assert postponed == [
        ({"due": due.isoformat()}, (due + timedelta(hours=1)).isoformat()),
        ({"due": (due + timedelta(hours=1)).isoformat()}, next_day.due_at.isoformat()),
    ]
    without_due = await add(uows, team["petya"], team["A"], "Без срока")
    moved = await call(uows, tasks.postpone_task, team["petya"], without_due.id, Postpone.HOUR)
    assert moved.due_at == clock.now() + timedelta(hours=1)


async def test_a_day_later_keeps_the_local_clock_time_across_dst(uows, team, clock):
    async with uows() as uow:
        account = await uow.session.get(Account, team["owner"].account_id)
        account.timezone = "Europe/Berlin"
        await uow.commit()
    petya = await actor_for(uows, 3001)
    clock.set(clock.now().replace(year=2026, month=10, day=24, hour=7))  # 09:00 CEST
    row = await add(uows, petya, team["A"], due=clock.now() + timedelta(hours=1))
    moved = await call(uows, tasks.postpone_task, petya, row.id, Postpone.DAY)
    assert moved.due_at.isoformat() == "2026-10-25T09:00:00+00:00"  # 10:00 CET, 25 hours on


async def test_two_members_closing_at_once_close_once(uows, team):
    row = await add(uows, team["admin"], team["A"], assignee=team["petya"].member_id)

    async def close(actor):
        try:
            await call(uows, tasks.close_task, actor, row.id)
        except (Conflict, InvalidInput) as exc:  # lost the compare-and-set, or came after it
            return exc.code
        return "won"

    results = await asyncio.gather(close(team["petya"]), close(team["admin"]))
    assert results.count("won") == 1
    assert set(results) - {"won"} <= {"task_changed", "task_already_done"}
    actions = [a for a, _b, _c in await task_actions(uows, team["A"])]
    assert actions == ["task.added", "task.done"]


async def test_a_read_only_account_keeps_its_tasks_unchanged(uows, team):
    row = await add(uows, team["petya"], team["A"])
    async with uows() as uow:
        account = await uow.session.get(Account, team["owner"].account_id)
        account.paid_through = uows.clock.now().date() - timedelta(days=2)
        await uow.commit()
    petya = await actor_for(uows, 3001)
    for attempt in (
        lambda uow: tasks.add_task(uow, petya, team["A"], "Ещё"),
        lambda uow: tasks.close_task(uow, petya, row.id),
        lambda uow: tasks.postpone_task(uow, petya, row.id, Postpone.HOUR),
    ):
        with pytest.raises(PermissionDenied) as err:
            async with uows() as uow:
                await attempt(uow)
        assert err.value.code == "account_read_only"
    assert (await call(uows, tasks.list_tasks, petya)).rows[0].id == row.id


# ---- lists -----------------------------------------------------------------------------------


async def test_lists_put_overdue_first_then_by_due_and_page_by_five(uows, team, clock):
    petya, now = team["petya"], clock.now()
    ids = {}
    for name, hours in [("later", 5), ("soon", 1), ("none", None), ("overdue", 0.5), ("x", 9)]:
        due = now + timedelta(hours=hours) if hours else None
        ids[name] = (await add(uows, petya, team["A"], name, due)).id
    for n in range(2):
        await add(uows, petya, team["C"], f"late{n}", now + timedelta(days=3))
    clock.advance(timedelta(hours=1, minutes=30))  # 'overdue' and 'soon' are past due now
    first = await call(uows, tasks.list_tasks, petya, TaskTab.MINE)
    assert [r.text for r in first.rows] == ["overdue", "soon", "later", "x", "late0"]
    assert [r.overdue for r in first.rows] == [True, True, False, False, False]
    assert (first.page, first.pages, first.tabs) == (0, 2, (TaskTab.MINE, TaskTab.OVERDUE))
    second = await call(uows, tasks.list_tasks, petya, TaskTab.MINE, 1)
    assert [r.text for r in second.rows] == ["late1", "none"]
    overdue = await call(uows, tasks.list_tasks, petya, TaskTab.OVERDUE)
    assert [r.text for r in overdue.rows] == ["overdue", "soon"]
    await call(uows, tasks.close_task, petya, ids["none"])
    clamped = await call(uows, tasks.list_tasks, petya, TaskTab.MINE, 7)
    assert clamped.page == 1 and [r.text for r in clamped.rows] == ["late1"]


async def test_everyone_s_tasks_are_for_admins(uows, team, clock):
    await add(uows, team["petya"], team["A"], "petya", clock.now() + timedelta(minutes=10))
    await add(uows, team["vasya"], team["B"], "vasya", clock.now() + timedelta(minutes=20))
    with pytest.raises(PermissionDenied) as err:
        await call(uows, tasks.list_tasks, team["petya"], TaskTab.ALL)
    assert err.value.code == "task_tab_admins"
    clock.advance(timedelta(hours=1))
    assert [
        r.text for r in (await call(uows, tasks.list_tasks, team["vasya"], TaskTab.OVERDUE)).rows
    ] == ["vasya"]
    admin_all = await call(uows, tasks.list_tasks, team["admin"], TaskTab.ALL)
    assert [r.text for r in admin_all.rows] == ["petya", "vasya"]
    assert admin_all.tabs == (TaskTab.MINE, TaskTab.OVERDUE, TaskTab.ALL)
    admin_overdue = await call(uows, tasks.list_tasks, team["admin"], TaskTab.OVERDUE)
    assert len(admin_overdue.rows) == 2


async def test_blocked_members_tasks_are_listed_for_reassignment(uows, team, clock):
    due = clock.now() + timedelta(hours=2)
    row = await add(uows, team["petya"], team["A"], "Отвезти документы", due)
    async with uows() as uow:
        await members.block_member(uow, team["admin"], team["petya"].member_id)
    page = await call(uows, tasks.list_tasks, team["admin"], TaskTab.BLOCKED)
    assert page.blocked == 1 and TaskTab.BLOCKED in page.tabs
    [blocked] = page.rows
    assert blocked.assignee_blocked and blocked.actions == (TaskAction.REASSIGN, TaskAction.DONE)
    with pytest.raises(PermissionDenied):
        await call(uows, tasks.list_tasks, team["vasya"], TaskTab.BLOCKED)
    pickable = [a.name for a in await call(uows, tasks.assignees, team["admin"])]
    assert "@petya" not in pickable and "@vasya" in pickable
    moved = await call(uows, tasks.reassign_task, team["admin"], row.id, team["vasya"].member_id)
    assert moved.assignee == "@vasya" and not moved.assignee_blocked
    after = await call(uows, tasks.list_tasks, team["admin"], TaskTab.MINE)
    assert after.blocked == 0 and TaskTab.BLOCKED not in after.tabs
    [notice] = await outbox_rows(uows)
    assert (notice.kind, notice.chat_id) == ("task_assigned", 3002)
    assert (await task_actions(uows, team["A"]))[-1] == (
        "task.reassigned",
        {"assignee": "@petya"},
        {"number": "A", "task": "Отвезти документы", "assignee": "@vasya"},
    )
    with pytest.raises(InvalidInput) as err:
        await call(uows, tasks.reassign_task, team["admin"], row.id, team["vasya"].member_id)
    assert err.value.code == "already_task_assignee"
    with pytest.raises(PermissionDenied):
        await call(uows, tasks.reassign_task, team["vasya"], row.id, team["admin"].member_id)


async def test_the_order_screen_shows_open_then_recently_closed(uows, team, clock):
    first = await add(uows, team["petya"], team["A"], "первая")
    await add(uows, team["petya"], team["A"], "вторая", clock.now() + timedelta(hours=1))
    await call(uows, tasks.close_task, team["petya"], first.id)
    screen = await call(uows, tasks.order_tasks, team["vasya"], team["A"])  # a colleague looks
    assert [(r.text, r.status) for r in screen.rows] == [("вторая", "open"), ("первая", "done")]
    assert all(r.actions == () for r in screen.rows)  # nothing of his to press
    card = await call(uows, order_card, team["admin"], team["A"])
    assert card.open_tasks == 1


# ---- reminders -------------------------------------------------------------------------------


async def test_a_due_task_reminds_its_assignee_once(uows, team, clock):
    due = clock.now() + timedelta(hours=1)
    row = await add(uows, team["petya"], team["A"], "Позвонить", due)
    assert await send_due_reminders(uows) == 0  # not yet
    clock.advance(timedelta(hours=1))
    assert await send_due_reminders(uows) == 1
    assert await send_due_reminders(uows) == 0
    [reminder] = await outbox_rows(uows)
    assert (reminder.kind, reminder.chat_id) == ("task_due", 3001)
    assert reminder.event_key == f"task:{row.id}:due:{due.isoformat()}"
    assert reminder.params["due"] == due.isoformat() and reminder.params["text"] == "Позвонить"
    assert reminder.not_before == clock.now()  # no quiet-hours hold: the member chose the time
    task = await stored(uows, row.id)
    assert (task.remind_at, task.reminded_for) == (None, due)


async def test_postponing_re_arms_and_closing_disarms(uows, team, clock):
    row = await add(uows, team["petya"], team["A"], "Позвонить", clock.now() + timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    assert await send_due_reminders(uows) == 1
    await call(uows, tasks.postpone_task, team["petya"], row.id, Postpone.HOUR)
    clock.advance(timedelta(minutes=59))
    assert await send_due_reminders(uows) == 0
    clock.advance(timedelta(minutes=1))
    assert await send_due_reminders(uows) == 1
    await call(uows, tasks.postpone_task, team["petya"], row.id, Postpone.HOUR)
    await call(uows, tasks.close_task, team["petya"], row.id)
    clock.advance(timedelta(days=2))
    assert await send_due_reminders(uows) == 0
    await call(uows, tasks.reopen_task, team["petya"], row.id)  # overdue, never reminded for it
    assert await send_due_reminders(uows) == 1
    keys = [m.event_key.rsplit(":due:", 1)[1][:16] for m in await outbox_rows(uows)]
    assert keys == ["2026-11-22T10:00", "2026-11-22T11:00", "2026-11-22T12:00"]


async def test_blocked_members_get_no_reminders_until_someone_has_the_task(uows, team, clock):
    row = await add(uows, team["petya"], team["A"], "Позвонить", clock.now() + timedelta(hours=1))
    async with uows() as uow:
        await members.block_member(uow, team["admin"], team["petya"].member_id)
    clock.advance(timedelta(hours=2))
    assert await send_due_reminders(uows) == 0
    assert (await stored(uows, row.id)).remind_at is not None  # still armed
    await call(uows, tasks.reassign_task, team["admin"], row.id, team["vasya"].member_id)
    assert await send_due_reminders(uows) == 0  # overdue: the reassign notice says so instead
    assert [m.kind for m in await outbox_rows(uows)] == ["task_assigned"]


async def test_members_who_blocked_the_bot_are_skipped(uows, team, clock):
    await add(uows, team["petya"], team["A"], "Позвонить", clock.now() + timedelta(minutes=5))
    async with uows() as uow:
        await uow.session.execute(
            update(Member).where(Member.telegram_id == 3001).values(unreachable=True)
        )
        await uow.commit()
    clock.advance(timedelta(minutes=5))
    assert await send_due_reminders(uows) == 0
    assert await outbox_rows(uows) == []


async def test_concurrent_runs_remind_once(uows, team, clock):
    for n in range(12):
        await add(uows, team["petya"], team["A"], f"t{n}", clock.now() + timedelta(minutes=n + 1))
    clock.advance(timedelta(hours=1))
    counts = await asyncio.gather(*(send_due_reminders(uows) for _ in range(4)))
    assert sum(counts) == 12
    rows = await outbox_rows(uows)
    assert len(rows) == len({m.event_key for m in rows}) == 12


async def test_a_removed_members_open_tasks_wait_for_reassignment_too(uows, team):
    await add(uows, team["vasya"], team["B"], "Забрать возврат")
    async with uows() as uow:
        await members.remove_member(uow, team["admin"], team["vasya"].member_id)
    page = await call(uows, tasks.list_tasks, team["admin"], TaskTab.BLOCKED)
    assert [(r.text, r.assignee_blocked) for r in page.rows] == [("Забрать возврат", True)]
