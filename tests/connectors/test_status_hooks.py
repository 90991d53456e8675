"""The outgoing status webhook: every status change or assignment is POSTed once, signed so that
the documented verification example accepts it, retried after a 500 with backoff, never twice."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from core.connectors import status_hooks
from core.connectors.models import StatusPost
from core.errors import InvalidInput, PermissionDenied
from core.orders.service import change_status, claim_order
from tests.support.orders import add_order


def verify(body: bytes, signature: str, secret: str) -> bool:
    """The verification example of docs/connectors.md, as a shop would write it."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), signature)


class Receiver:
    def __init__(self) -> None:
        self.answers: list[int] = []  # status codes to give, in order; then 200
        self.got: list[tuple[bytes, dict]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append((await request.read(), dict(request.headers)))
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status)


@pytest.fixture
async def receiver():
    r = Receiver()
    app = web.Application()
    app.router.add_post("/shopdesk", r.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    r.url = str(server.make_url("/shopdesk"))
    yield r
    await server.close()


async def test_changes_are_posted_signed_retried_after_a_500_and_never_twice(
    app, shop, receiver, clock
):
    owner, m1 = shop["owner"], shop["m1"]
    async with app.uows() as uow:
        hook = await status_hooks.set_hook(uow, owner, receiver.url, app.connectors)
    order_id = await add_order(app.uows, owner.account_id, "1021", external_id="shopify:x:1")
    async with app.uows() as uow:
        await claim_order(uow, m1, order_id)
    async with app.uows() as uow:
        await change_status(uow, m1, order_id, "completed")
    receiver.answers = [500]
    sent = await status_hooks.send_due(app.uows, app.connectors)
    assert sent == 1  # the claim got a 500, the status change went through
    assert len(receiver.got) == 2
    # Nothing is due again before the backoff has passed, and nothing sent is sent again.
    assert await status_hooks.send_due(app.uows, app.connectors) == 0
    clock.advance(timedelta(seconds=11))
    both = await asyncio.gather(
        status_hooks.send_due(app.uows, app.connectors, owner="a"),
        status_hooks.send_due(app.uows, app.connectors, owner="b"),
    )
    assert sum(both) == 1
    clock.advance(timedelta(hours=5))
    assert await status_hooks.send_due(app.uows, app.connectors) == 0
    assert len(receiver.got) == 3
    documents = []
    for body, headers in receiver.got:
        assert verify(body, headers["X-ShopDesk-Signature"], hook.secret)
        assert not verify(body, headers["X-ShopDesk-Signature"], hook.secret + "x")
        documents.append(json.loads(body))
    claimed, completed, retried = documents
    assert retried == claimed  # the same document, the same delivery id
    assert claimed["event"] == "order.claimed"
    assert claimed["order"] == {
        "id": order_id,
        "number": "1021",
        "external_id": "shopify:x:1",
        "status": "in_progress",
    }
    assert claimed["assignee"] == "@petya"
    assert completed["order"]["status"] == "completed"
    assert completed["delivery_id"] != claimed["delivery_id"]
    async with app.uows() as uow:
        posts = list(await uow.session.scalars(select(StatusPost).order_by(StatusPost.id)))
        log = await status_hooks.recent_posts(uow, owner.account_id)
    assert [(p.status, p.attempts) for p in posts] == [("sent", 2), ("sent", 1)]
    assert [p.last_code for p in log] == [200, 200]


async def test_no_hook_no_posts_and_only_admins_set_it(app, shop):
    order_id = await add_order(app.uows, shop["owner"].account_id, "7")
    async with app.uows() as uow:
        await claim_order(uow, shop["m1"], order_id)
    async with app.uows() as uow:
        assert list(await uow.session.scalars(select(StatusPost))) == []
    async with app.uows() as uow:
        with pytest.raises(PermissionDenied):
            await status_hooks.set_hook(uow, shop["m1"], "https://x.example/h", app.connectors)
    async with app.uows() as uow:
        with pytest.raises(InvalidInput):
            await status_hooks.set_hook(uow, shop["owner"], "ftp://x", app.connectors)
