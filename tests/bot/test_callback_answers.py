"""Every button press is answered exactly once, by the middleware (bot/middlewares.py):
with the handler's toast or alert, or, when the handler fails, with the error handler's alert."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.members.callbacks import MemberCb, MemberOp
from bot.reports.callbacks import PeriodCode, ReportCb, ReportOp
from tests.support.orders import add_order


def only_answer(reply):
    assert len(reply.answers) == 1, reply.answers
    return reply.answers[0]


async def test_a_plain_button_gets_one_empty_answer(client, shop):
    owner = client(1000)
    await owner.send("/users")
    answer = only_answer(await owner.click("@petya"))
    assert answer.text is None and not answer.show_alert


async def test_a_toast_set_by_the_handler_is_the_answer(client, shop):
    owner = client(1000)
    await owner.send("/users")
    await owner.click("@petya")
    answer = only_answer(await owner.click("Заблокировать"))
    assert "заблокирован" in answer.text and not answer.show_alert


async def test_an_alert_set_by_the_handler_is_shown_as_an_alert(client, shop):
    answer = only_answer(await client(1000).press("nonsense:1"))
    assert "устарела" in answer.text and answer.show_alert


async def test_a_refusal_is_the_one_answer_and_an_alert(client, shop):
    forged = MemberCb(op=MemberOp.BLOCK, member_id=shop["m2"].member_id).pack()
    answer = only_answer(await client(3001).press(forged))  # a manager
    assert "нет прав" in answer.text.lower() and answer.show_alert


async def test_an_unexpected_failure_is_the_one_answer_and_an_alert(client, shop, monkeypatch):
    from bot.members import router

    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(router.service, "member_card", broken)
    owner = client(1000)
    await owner.send("/users")
    answer = only_answer(await owner.click("@petya"))
    assert answer.show_alert and ("Sorry" in answer.text or "Извините" in answer.text)


@pytest.mark.parametrize("op", list(ReportOp))
async def test_every_report_button_is_answered_once(client, shop, uows, op):
    await add_order(uows, shop["owner"].account_id, "A-1")
    reply = await client(1000).press(ReportCb(op=op, p=PeriodCode.MONTH).pack())
    only_answer(reply)


def test_no_handler_answers_a_callback_query_itself():
    """Only what runs before any handler (flood and block refusals) or after it (the error
    handler) answers a query directly; handlers set `callback_answer` instead."""
    root = Path(__file__).resolve().parents[2]
    outside_handlers = {"bot/errors.py", "bot/guards.py", "bot/middlewares.py"}
    direct = re.compile(r"query\.answer\((?!\[)")
    offenders = [
        f"{name}:{number}"
        for path in sorted((root / "bot").rglob("*.py"))
        if (name := str(path.relative_to(root))) not in outside_handlers
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if direct.search(line)
    ]
    assert offenders == []
