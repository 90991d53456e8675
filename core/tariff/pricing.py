"""Pure pricing rules (docs/guide.md): invoices, calendar months, paid-through recalculation.

Money is integer kopecks; a percentage is rounded half-up to the kopeck once per invoice line.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.money import percent_of
from core.tariff.catalog import Catalog, Tariff


def local_date(moment: datetime, timezone: str) -> date:
    """Billing days are the account's days, not UTC's."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def extra_users(tariff: Tariff, members: int) -> int:
    return max(0, members - tariff.free_users)


def monthly_cost(catalog: Catalog, tariff: Tariff, members: int) -> int:
    """The undiscounted price of one month: the tariff plus every member beyond the free ones."""
    return tariff.monthly_price + extra_users(tariff, members) * catalog.extra_user_price


def days_left(paid_through: date | None, today: date) -> int:
    """Whole days from today to the paid-through date; 0 on that day, after it, or if unpaid."""
    if paid_through is None:
        return 0
    return max(0, (paid_through - today).days)


def is_lapsed(paid_through: date | None, today: date) -> bool:
    """The paid-through day itself is still paid; an account never billed has not lapsed."""
    return paid_through is not None and today > paid_through


def add_months(start: date, months: int) -> date:
    """Calendar months; a day the target month lacks becomes its last (31.01 + 1 → 28.02)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def prepaid_through(paid_through: date | None, today: date, months: int) -> date:
    """A payment extends a running period; a lapsed or unpaid account starts today."""
    start = paid_through if paid_through is not None and paid_through >= today else today
    return add_months(start, months)


def recalculated(
    paid_through: date | None, today: date, cost_old: int, cost_new: int
) -> date | None:
    """`today + floor(D × C_old / C_new)` days: the prepaid value is kept at the new price.

    Discounts cancel out in the ratio. With no days left (unpaid, lapsed, or the paid-through
    day itself) there is nothing to convert and the date stays.
    """
    left = days_left(paid_through, today)
    if left == 0 or cost_old == cost_new:
        return paid_through
    return today + timedelta(days=left * cost_old // cost_new)


class LineKind(StrEnum):
    TARIFF = "tariff"
    EXTRA_USERS = "extra_users"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    kind: LineKind
    quantity: int
    unit_price: int  # per month
    months: int
    amount: int  # quantity × unit price × months
    discount: int  # the line's percentage, rounded half-up once


@dataclass(frozen=True, slots=True)
class Invoice:
    tariff: Tariff
    months: int
    members: int
    discount_percent: Decimal
    lines: tuple[InvoiceLine, ...]

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def discount(self) -> int:
        return sum(line.discount for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount

    @property
    def extra_users(self) -> int:
        return self.lines[1].quantity


def invoice(catalog: Catalog, tariff: Tariff, members: int, months: int) -> Invoice:
    """One line for the tariff, one for the extra users, the discount and the total."""
    catalog.check_period(months)
    percent = catalog.discount(months)
    extra = extra_users(tariff, members)

    def line(kind: LineKind, quantity: int, unit: int) -> InvoiceLine:
        amount = quantity * unit * months
        return InvoiceLine(kind, quantity, unit, months, amount, percent_of(amount, percent))

    lines = (
        line(LineKind.TARIFF, 1, tariff.monthly_price),
        line(LineKind.EXTRA_USERS, extra, catalog.extra_user_price),
    )
    return Invoice(tariff, months, members, percent, lines)


@dataclass(frozen=True, slots=True)
class Repricing:
    """What a change of seats or tariff does to the monthly cost and the paid-through date."""

    tariff_before: Tariff
    tariff_after: Tariff
    members_before: int
    members_after: int
    monthly_before: int
    monthly_after: int
    paid_through_before: date | None
    paid_through_after: date | None
    days_left: int

    @property
    def monthly_delta(self) -> int:
        return self.monthly_after - self.monthly_before

    @property
    def moves_date(self) -> bool:
        return self.paid_through_after != self.paid_through_before

    @property
    def shortens(self) -> bool:
        """Prepaid days would be lost: someone must agree to this first."""
        return self.monthly_delta > 0 and self.moves_date

    def audit(self) -> tuple[dict, dict]:
        def side(tariff: Tariff, members: int, monthly: int, through: date | None) -> dict:
            return {
                "tariff": tariff.code,
                "members": members,
                "monthly_cost": monthly,
                "paid_through": through.isoformat() if through else None,
            }

        return (
            side(
                self.tariff_before,
                self.members_before,
                self.monthly_before,
                self.paid_through_before,
            ),
            side(
                self.tariff_after, self.members_after, self.monthly_after, self.paid_through_after
            ),
        )


def reprice(
    catalog: Catalog,
    *,
    tariff_before: Tariff,
    members_before: int,
    tariff_after: Tariff,
    members_after: int,
    paid_through: date | None,
    today: date,
) -> Repricing:
    before = monthly_cost(catalog, tariff_before, members_before)
    after = monthly_cost(catalog, tariff_after, members_after)
    return Repricing(
        tariff_before,
        tariff_after,
        members_before,
        members_after,
        before,
        after,
        paid_through,
        recalculated(paid_through, today, before, after),
        days_left(paid_through, today),
    )


def reminder_due(
    paid_through: date | None, today: date, days_before: tuple[int, ...]
) -> int | None:
    """Which renewal reminder (7, 3 or 1 days before) is due today, if any.

    On its exact day a reminder is due; a run that missed days catches up with the most urgent
    one still ahead (5 days left → the 7-day one, 2 → the 3-day one, the paid-through day itself
    → the 1-day one). The sender's unique event key makes each one go out once.
    """
    if paid_through is None:
        return None
    left = (paid_through - today).days
    ahead = [d for d in days_before if d >= left]
    if left < 0 or not ahead:
        return None
    return min(ahead)
