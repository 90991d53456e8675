"""The balance as members see it: top-ups (which also renew what they now cover) and /balance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, NotFound
from core.journal import forecast
from core.journal.calendar import local_today
from core.journal.lifecycle import Transition
from core.journal.renewals import advance_account
from core.journal.service import open_of
from core.ledger.models import LedgerEntry
from core.ledger.service import MAX_TOP_UP, balance_of, credit_top_up, recent_entries
from core.members.actor import Actor
from core.members.permissions import Perm


@dataclass(frozen=True, slots=True)
class TopUpResult:
    entry: LedgerEntry  # the first entry for this reference when `replayed`
    replayed: bool
    balance: int
    transitions: list[Transition]  # what the money set going: renewals of suspended services


@dataclass(frozen=True, slots=True)
class BalanceOverview:
    balance: int
    today: date
    renewals: list[forecast.Renewal]  # due within FORECAST_DAYS
    total: int
    runway: forecast.Runway
    anything_renews: bool  # any auto-renewal at all within the runway horizon
    entries: list[LedgerEntry]  # the latest first
    needs: forecast.Needs  # what keeps the first uncovered renewal, what covers the week


@dataclass(frozen=True, slots=True)
class TopUpPreview:
    """What /topup's confirmation shows before the payment is recorded."""

    amount: int
    balance: int  # now
    after: int  # once credited
    needs_after: forecast.Needs  # what would still be short


async def preview_top_up(uow: UnitOfWork, actor: Actor, amount: int) -> TopUpPreview:
    """The balance a payment of `amount` would give; changes nothing."""
    actor.require(Perm.BILLING_MANAGE)
    if amount <= 0:
        raise InvalidInput("amount_positive")
    if amount > MAX_TOP_UP:
        raise InvalidInput("amount_too_large", amount=MAX_TOP_UP)
    balance = await balance_of(uow, actor.account_id)
    today = local_today(uow.clock.now(), actor.timezone)
    services = await open_of(uow, actor.account_id)
    ahead = forecast.renewals(services, today, forecast.FORECAST_DAYS)
    after = balance + amount
    return TopUpPreview(amount, balance, after, forecast.needs(after, ahead, today))


async def _top_up(
    uow: UnitOfWork,
    account_id: int,
    actor_id: int | None,
    amount: int,
    reference: str | None,
    request_key: str | None,
) -> TopUpResult:
    result = await credit_and_renew(uow, account_id, actor_id, amount, reference, request_key)
    await uow.commit()
    return result


async def credit_and_renew(
    uow: UnitOfWork,
    account_id: int,
    actor_id: int | None,
    amount: int,
    reference: str | None,
    request_key: str | None = None,
) -> TopUpResult:
    """A top-up in the caller's transaction (it commits): a paid invoice credits the balance
    with the rest of its bank document, and what the money covers renews at once."""
    credited = await credit_top_up(
        uow,
        account_id=account_id,
        actor_id=actor_id,
        amount=amount,
        reference=reference,
        request_key=request_key,
    )
    transitions = []
    if not credited.replayed:
        # The lock is held since the credit: suspended services it covers renew right away.
        transitions = await advance_account(uow, account_id, uow.clock.now(), actor_id=actor_id)
    balance = await balance_of(uow, account_id)
    return TopUpResult(credited.entry, credited.replayed, balance, transitions)


async def top_up(
    uow: UnitOfWork,
    actor: Actor,
    amount: int,
    reference: str | None = None,
    request_key: str | None = None,
) -> TopUpResult:
    """Records a payment received. The same reference (or request) never credits twice."""
    actor.require(Perm.BILLING_MANAGE)
    return await _top_up(uow, actor.account_id, actor.member_id, amount, reference, request_key)


async def operator_top_up(
    uow: UnitOfWork, account_id: int, amount: int, reference: str
) -> TopUpResult:
    """The same, recorded by the operator from the command line (no member behind it)."""
    if await uow.session.get(Account, account_id) is None:
        raise NotFound("account_not_found", account=account_id)
    return await _top_up(uow, account_id, None, amount, reference, None)


async def balance_overview(uow: UnitOfWork, actor: Actor) -> BalanceOverview:
    actor.require(Perm.SERVICES_VIEW)
    balance = await balance_of(uow, actor.account_id)
    today = local_today(uow.clock.now(), actor.timezone)
    services = await open_of(uow, actor.account_id)
    ahead = forecast.renewals(services, today, forecast.RUNWAY_HORIZON_DAYS)
    soon = [r for r in ahead if r.on <= today + timedelta(days=forecast.FORECAST_DAYS)]
    return BalanceOverview(
        balance=balance,
        today=today,
        renewals=soon,
        total=sum(r.price for r in soon),
        runway=forecast.runway(balance, ahead),
        anything_renews=bool(ahead),
        entries=await recent_entries(uow, actor.account_id),
        needs=forecast.needs(balance, soon, today),
    )
