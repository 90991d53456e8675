"""The owner's settings of working hours, claim time, distribution, cap and shift end."""

from __future__ import annotations

import pytest

from core.accounts import settings
from core.errors import InvalidInput, PermissionDenied
from tests.support.factories import join, new_account


@pytest.mark.parametrize(
    ("typed", "days"),
    [("1-5", "12345"), ("123456", "123456"), ("7 1", None), ("5-1", None), ("0", None)],
)
def test_working_days(typed, days):
    if days is None:
        with pytest.raises(InvalidInput):
            settings.read_days(typed)
    else:
        assert settings.read_days(typed) == days


async def test_the_owner_sets_them_and_nobody_else(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin", username="admin")
    async with uows() as uow:
        s = await settings.set_work_hours(uow, owner, "10-19 1-6")
    assert (s.work_start, s.work_end, s.work_days) == (10, 19, "123456")
    async with uows() as uow:
        s = await settings.set_work_hours(uow, owner, "8-17")
    assert (s.work_start, s.work_end, s.work_days) == (8, 17, "123456")  # days kept
    async with uows() as uow:
        assert (await settings.set_claim_minutes(uow, owner, "30")).claim_minutes == 30
    async with uows() as uow:
        assert (await settings.set_distribution(uow, owner, "авто")).distribution == "auto"
    async with uows() as uow:
        assert (await settings.set_open_cap(uow, owner, "7")).open_cap == 7
    async with uows() as uow:
        assert (await settings.set_shift_auto_off(uow, owner, "on")).shift_auto_off is True
    for setter, value, code in [
        (settings.set_work_hours, "18-9", "work_hours"),
        (settings.set_work_hours, "9-24", "work_hours"),
        (settings.set_claim_minutes, "0", "claim_minutes"),
        (settings.set_claim_minutes, "15m", "claim_minutes"),
        (settings.set_distribution, "random", "distribution"),
        (settings.set_open_cap, "1001", "open_cap"),
        (settings.set_shift_auto_off, "maybe", "switch_word"),
    ]:
        with pytest.raises(InvalidInput) as err:
            async with uows() as uow:
                await setter(uow, owner, value)
        assert err.value.code == code, value
    with pytest.raises(PermissionDenied):
        async with uows() as uow:
            await settings.set_distribution(uow, admin, "auto")
    async with uows() as uow:
        s = await settings.account_settings(uow, owner)
    assert (s.claim_minutes, s.distribution, s.open_cap, s.work_start) == (30, "auto", 7, 8)
