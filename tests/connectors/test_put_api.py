"""PUT /api/v1/orders/{external_id}: the generic API gets the connectors' update rules."""

from __future__ import annotations

from sqlalchemy import select

from core.audit.models import AuditEntry
from core.intake.tokens import issue_token_for_account
from core.orders.models import OrderStatus
from tests.api.test_intake_api import auth, body
from tests.connectors.support import orders


async def test_put_creates_updates_ignores_older_and_repeats_and_cancels(app, api, shop):
    async with app.uows() as uow:
        token = (await issue_token_for_account(uow, shop["owner"].account_id)).token
    url = "/api/v1/orders/shop-10042"
    first = body(external_id=..., updated_at="2026-11-22T12:00:00+03:00")
    response = await api.put(url, json=first, headers=auth(token))
    assert response.status == 201, await response.text()
    assert (await response.json())["outcome"] == "created"
    newer = dict(first, total="3500.00", updated_at="2026-11-22T12:30:00+03:00")
    response = await api.put(url, json=newer, headers=auth(token))
    assert (response.status, (await response.json())["outcome"]) == (200, "updated")
    assert (await api.put(url, json=newer, headers=auth(token))).status == 200
    repeat = await (await api.put(url, json=newer, headers=auth(token))).json()
    assert repeat["outcome"] == "unchanged"
    older = dict(first, total="1.00", updated_at="2026-11-22T12:10:00+03:00")
    stale = await (await api.put(url, json=older, headers=auth(token))).json()
    assert (stale["outcome"], stale["total"]) == ("stale", 350000)
    cancel = dict(newer, status="cancelled", updated_at="2026-11-22T13:00:00+03:00")
    done = await (await api.put(url, json=cancel, headers=auth(token))).json()
    assert (done["outcome"], done["status"]) == ("updated", "cancelled")
    [order] = await orders(app.uows)
    assert (order.total, order.status) == (350000, OrderStatus.CANCELLED)
    async with app.uows() as uow:
        changes = list(
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "order.changed_by_store")
            )
        )
    assert [c.reason for c in changes] == ["api", "api"]
    assert changes[0].before["total"] == 300000 and changes[0].after["total"] == 350000


async def test_put_refuses_bad_input_and_a_taken_number(app, api, shop):
    async with app.uows() as uow:
        token = (await issue_token_for_account(uow, shop["owner"].account_id)).token
    url = "/api/v1/orders/a-1"
    assert (await api.put(url, json=body(external_id="other"), headers=auth(token))).status == 422
    bad_status = body(external_id=..., status="completed")
    response = await api.put(url, json=bad_status, headers=auth(token))
    assert (response.status, (await response.json())["error"]["field"]) == (422, "status")
    assert (await api.put(url, json=body(external_id=...), headers={})).status == 401
    assert (await api.put(url, data=b"{", headers=auth(token))).status == 400
    assert (await api.put(url, json=body(external_id=...), headers=auth(token))).status == 201
    taken = await api.put("/api/v1/orders/a-2", json=body(external_id=...), headers=auth(token))
    assert (taken.status, (await taken.json())["error"]["code"]) == (409, "order_number_taken")
    assert len(await orders(app.uows)) == 1
