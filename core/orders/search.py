"""/find (and the Mini App's search): the orders a member may see, by number, phone or name.

Visibility is the lists': a member finds what the Mine / Unassigned / All tabs would show them,
own orders with the customer's name, colleagues' in brief (core/orders/views.py decides). A
number matches with №/# and invisible characters dropped, in any letter case; a phone in any
format (its digits are compared, read in the account's country); a name by its beginning, in
any case. Every order the member may see matches by number, phone or name; a colleague's order
found by its customer's phone or name is still shown in brief (no customer details), as in the
lists — the customer's card (a repeat customer's orders with the manager who knows them) builds
on that.
"""

from __future__ import annotations

import phonenumbers
from sqlalchemy import false, func, or_, true

from core.accounts.models import Account
from core.accounts.service import phone_region
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, PermissionDenied
from core.members.actor import Actor
from core.members.permissions import Perm
from core.orders import fields
from core.orders.models import OPEN_STATUSES, Order
from core.orders.service import summary_columns, summary_row
from core.orders.views import OrderSummary

MAX_QUERY = 100
MIN_PHONE_DIGITS = 5
_PHONE_SEPARATORS = (" ", "-", "(", ")", "+", ".", "\u00a0")


def visible_orders(actor: Actor):
    """The orders the actor's lists show: everything for the team view, else own ones and (with
    claim) the open unassigned ones."""
    if actor.can(Perm.ORDERS_VIEW_ALL) or actor.can(Perm.ORDERS_VIEW_TEAM):
        return true()
    own = Order.assignee_id == actor.member_id if actor.can(Perm.ORDERS_VIEW_OWN) else false()
    if actor.can(Perm.ORDERS_CLAIM):
        return or_(own, Order.assignee_id.is_(None) & Order.status.in_(OPEN_STATUSES))
    return own


def phone_digits(query: str, region: str) -> str | None:
    """The national number's digits to look for, or None if the query is not a phone."""
    digits = "".join(c for c in query if c.isdigit())
    if len(digits) < MIN_PHONE_DIGITS or any(c.isalpha() for c in query):
        return None
    try:
        parsed = phonenumbers.parse(query, region)
    except phonenumbers.NumberParseException:
        return digits
    return str(parsed.national_number) or digits


def _stored_digits():
    column = func.coalesce(Order.customer_phone, "")
    for sep in _PHONE_SEPARATORS:
        column = func.replace(column, sep, "")
    return column


def like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def name_starts(column, name: str):
    """`column` (a name), or one of its words, starts with `name` in any letter case. SQLite's
    lower() and PostgreSQL's under the C locale fold ASCII only: the usual spellings are tried
    as typed instead (иван, Иван, ИВАН)."""
    variants = {name, name.lower(), name.upper(), name.title(), name.capitalize()}
    conditions = []
    for variant in variants:
        escaped = like_prefix(variant)
        conditions.append(column.like(escaped, escape="\\"))
        conditions.append(column.like("% " + escaped, escape="\\"))
    return or_(*conditions)


async def find_orders(
    uow: UnitOfWork, actor: Actor, query: str, *, limit: int = 50, offset: int = 0
) -> list[OrderSummary]:
    """Orders matching `query` (number, phone or customer name), newest first."""
    if not any(
        actor.can(p)
        for p in (
            Perm.ORDERS_VIEW_OWN,
            Perm.ORDERS_CLAIM,
            Perm.ORDERS_VIEW_TEAM,
            Perm.ORDERS_VIEW_ALL,
        )
    ):
        raise PermissionDenied(permission=Perm.ORDERS_VIEW_OWN.value)
    text = fields.visible(query or "").strip()
    if not text or len(text) > MAX_QUERY:
        raise InvalidInput("find_query", limit=MAX_QUERY)
    number = text.lstrip("#№").strip()
    matches = [func.lower(Order.number) == number.lower()]
    account = await uow.session.get(Account, actor.account_id)
    phone = phone_digits(text, phone_region(account))
    if phone is not None:
        matches.append(_stored_digits().like("%" + phone + "%"))
    else:
        matches.append(name_starts(Order.customer_name, " ".join(text.split())))
    statement = (
        summary_columns()
        .where(Order.account_id == actor.account_id, visible_orders(actor), or_(*matches))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(max(1, min(limit, 200)))
        .offset(max(0, offset))
    )
    result = (await uow.session.execute(statement)).all()
    return [summary_row(actor, r) for r in result]
