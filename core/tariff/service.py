"""Tariff use cases: status, invoice preview, prepayment, tariff change, renewal reminders.

Paying and changing the tariff stay open when the account is read-only: that is how it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, PermissionDenied
from core.members.actor import Actor
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import OWNER, Perm
from core.tariff.catalog import Catalog, Tariff
from core.tariff.models import TariffPayment
from core.tariff.pricing import (
    Invoice,
    Repricing,
    days_left,
    extra_users,
    invoice,
    is_lapsed,
    local_date,
    monthly_cost,
    prepaid_through,
    reminder_due,
    reprice,
)
from core.tariff.seats import account_today, apply_repricing, count_seats, lock_account

REFERENCE_LIMIT = 100


@dataclass(frozen=True, slots=True)
class TariffStatus:
    tariff: Tariff
    members: int
    extra_users: int
    extra_user_price: int
    monthly_cost: int
    paid_through: date | None
    days_left: int
    lapsed: bool
    next_invoice: Invoice  # one month at today's seats
    discounts: tuple[tuple[int, Decimal], ...]  # (months, percent) for every invoice period


@dataclass(frozen=True, slots=True)
class Prepayment:
    payment: TariffPayment
    duplicate: bool  # the reference was recorded before: nothing changed this time
    paid_through: date | None  # the account's date now


def _require_view(actor: Actor) -> None:
    """The owner pays; admins may look (see docs/permissions.md)."""
    if not (actor.can(Perm.BILLING_MANAGE) or actor.can(Perm.USERS_MANAGE)):
        raise PermissionDenied(permission=Perm.BILLING_MANAGE.value)


def _require_owner(actor: Actor) -> None:
    if not actor.is_owner:
        raise PermissionDenied("owner_only")


async def _account(uow: UnitOfWork, actor: Actor) -> Account:
    account = await uow.session.get(Account, actor.account_id)
    assert account is not None  # the actor was resolved from it in this very update
    return account


async def tariff_status(uow: UnitOfWork, actor: Actor, catalog: Catalog) -> TariffStatus:
    _require_view(actor)
    account = await _account(uow, actor)
    tariff = catalog.tariff(account.tariff_code)
    members = await count_seats(uow, account.id)
    today = account_today(uow, account)
    return TariffStatus(
        tariff=tariff,
        members=members,
        extra_users=extra_users(tariff, members),
        extra_user_price=catalog.extra_user_price,
        monthly_cost=monthly_cost(catalog, tariff, members),
        paid_through=account.paid_through,
        days_left=days_left(account.paid_through, today),
        lapsed=is_lapsed(account.paid_through, today),
        next_invoice=invoice(catalog, tariff, members, 1),
        discounts=tuple((m, catalog.discount(m)) for m in catalog.periods),
    )


async def preview_invoice(uow: UnitOfWork, actor: Actor, months: int, catalog: Catalog) -> Invoice:
    _require_view(actor)
    catalog.check_period(months)
    account = await _account(uow, actor)
    members = await count_seats(uow, account.id)
    return invoice(catalog, catalog.tariff(account.tariff_code), members, months)


@dataclass(frozen=True, slots=True)
class PrepayPreview:
    """What /prepay's confirmation shows before the payment is recorded."""

    invoice: Invoice
    paid_through_before: date | None
    paid_through_after: date


async def preview_prepay(
    uow: UnitOfWork, actor: Actor, months: int, catalog: Catalog
) -> PrepayPreview:
    """The invoice of `months` and the paid-through date it would give; changes nothing."""
    actor.require(Perm.BILLING_MANAGE)
    catalog.check_period(months)
    account = await _account(uow, actor)
    members = await count_seats(uow, account.id)
    bill = invoice(catalog, catalog.tariff(account.tariff_code), members, months)
    before = account.paid_through
    after = prepaid_through(before, account_today(uow, account), months)
    return PrepayPreview(bill, before, after)


def _clean_reference(reference: str | None) -> str | None:
    reference = (reference or "").strip()
    if len(reference) > REFERENCE_LIMIT:
        raise InvalidInput("reference_too_long", limit=REFERENCE_LIMIT)
    return reference or None


async def prepay(
    uow: UnitOfWork, actor: Actor, months: int, reference: str | None, catalog: Catalog
) -> Prepayment:
    """Records a payment of the `months` invoice and moves the paid-through date forward."""
    actor.require(Perm.BILLING_MANAGE)
    return await record_prepayment(
        uow, actor.account_id, months, reference, catalog, actor_id=actor.member_id
    )


async def record_prepayment(
    uow: UnitOfWork,
    account_id: int,
    months: int,
    reference: str | None,
    catalog: Catalog,
    *,
    actor_id: int | None = None,
) -> Prepayment:
    """The payment itself, for the bot (through `prepay`) and the operator's CLI (no actor).

    A reference counts once per account: a repeat returns the first payment and changes
    nothing. The account lock makes a concurrent repeat wait and then see the first one; the
    UNIQUE constraint is the backstop.
    """
    result = await apply_prepayment(uow, account_id, months, reference, catalog, actor_id=actor_id)
    await uow.commit()
    return result


async def apply_prepayment(
    uow: UnitOfWork,
    account_id: int,
    months: int,
    reference: str | None,
    catalog: Catalog,
    *,
    actor_id: int | None = None,
    amount: int | None = None,
) -> Prepayment:
    """`record_prepayment` in the caller's transaction (it commits): a paid invoice moves the
    date with the rest of its bank document. `amount`: what was paid (the invoice's total),
    by default the invoice at today's seats."""
    catalog.check_period(months)
    reference = _clean_reference(reference)
    account = await lock_account(uow, account_id)
    if reference is not None:
        first = (
            await uow.session.scalars(
                select(TariffPayment).where(
                    TariffPayment.account_id == account_id, TariffPayment.reference == reference
                )
            )
        ).first()
        if first is not None:
            return Prepayment(first, duplicate=True, paid_through=account.paid_through)
    members = await count_seats(uow, account_id)
    bill = invoice(catalog, catalog.tariff(account.tariff_code), members, months)
    before = account.paid_through
    after = prepaid_through(before, account_today(uow, account), months)
    payment = TariffPayment(
        account_id=account_id,
        tariff_code=bill.tariff.code,
        months=months,
        members=members,
        amount=bill.total if amount is None else amount,
        reference=reference,
        paid_through_before=before,
        paid_through_after=after,
        created_by=actor_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(payment)
    account.paid_through = after
    await uow.session.flush()
    audit(
        uow,
        actor_id,
        "tariff.prepaid",
        account,
        before={"paid_through": before.isoformat() if before else None},
        after={
            "paid_through": after.isoformat(),
            "months": months,
            "amount": payment.amount,
            "reference": reference,
            "payment_id": payment.id,
        },
    )
    return Prepayment(payment, duplicate=False, paid_through=after)


async def _plan(uow: UnitOfWork, account: Account, code: str, catalog: Catalog) -> Repricing:
    new = catalog.tariff(code)
    if new.code == account.tariff_code:
        raise InvalidInput("same_tariff", tariff=new.code)
    members = await count_seats(uow, account.id)
    return reprice(
        catalog,
        tariff_before=catalog.tariff(account.tariff_code),
        members_before=members,
        tariff_after=new,
        members_after=members,
        paid_through=account.paid_through,
        today=account_today(uow, account),
    )


async def preview_plan(uow: UnitOfWork, actor: Actor, code: str, catalog: Catalog) -> Repricing:
    """What changing to `code` would do; nothing is changed."""
    _require_owner(actor)
    return await _plan(uow, await _account(uow, actor), code, catalog)


async def change_plan(uow: UnitOfWork, actor: Actor, code: str, catalog: Catalog) -> Repricing:
    """The remaining prepaid days are converted at the new monthly cost (same formula as seats)."""
    _require_owner(actor)
    account = await lock_account(uow, actor.account_id)
    change = await _plan(uow, account, code, catalog)
    apply_repricing(uow, account, change, actor_id=actor.member_id, action="tariff.plan_changed")
    await uow.commit()
    return change


@dataclass(frozen=True, slots=True)
class RenewalReminder:
    """One reminder for the owner, ready for the outbox of the scheduler issue."""

    account_id: int
    owner_telegram_id: int
    locale: str
    timezone: str
    days_before: int  # 7, 3 or 1 (the catalog's reminder days)
    days_left: int
    paid_through: date
    invoice: Invoice  # the one-month preview at today's seats

    @property
    def event_key(self) -> str:
        """Unique per account, period and threshold: the outbox sends each one once."""
        return (
            f"tariff.renewal:{self.account_id}:{self.paid_through.isoformat()}:{self.days_before}"
        )


async def renewal_reminder(
    uow: UnitOfWork, account: Account, catalog: Catalog
) -> RenewalReminder | None:
    """The reminder due for this account today (its time zone), if any."""
    today = account_today(uow, account)
    due = reminder_due(account.paid_through, today, catalog.reminder_days)
    if due is None:
        return None
    owner = (
        await uow.session.scalars(
            select(Member)
            .join(Role, Role.id == Member.role_id)
            .where(
                Member.account_id == account.id,
                Role.code == OWNER,
                Member.status == MemberStatus.ACTIVE,
            )
        )
    ).first()
    if owner is None:
        return None
    members = await count_seats(uow, account.id)
    return RenewalReminder(
        account_id=account.id,
        owner_telegram_id=owner.telegram_id,
        locale=owner.locale or account.locale,
        timezone=account.timezone,
        days_before=due,
        days_left=(account.paid_through - today).days,
        paid_through=account.paid_through,
        invoice=invoice(catalog, catalog.tariff(account.tariff_code), members, 1),
    )


async def due_renewal_reminders(uow: UnitOfWork, catalog: Catalog) -> list[RenewalReminder]:
    """Every reminder due now, for the scheduler's job to put into the outbox (read-only)."""
    if not catalog.reminder_days:
        return []
    utc_today = local_date(uow.clock.now(), "UTC")
    # A day of slack either side covers every time zone; each account is then checked exactly.
    window = (
        utc_today - timedelta(days=1),
        utc_today + timedelta(days=max(catalog.reminder_days) + 1),
    )
    accounts = await uow.session.scalars(
        select(Account).where(Account.paid_through.between(*window)).order_by(Account.id)
    )
    reminders = []
    for account in list(accounts):
        reminder = await renewal_reminder(uow, account, catalog)
        if reminder is not None:
            reminders.append(reminder)
    return reminders
