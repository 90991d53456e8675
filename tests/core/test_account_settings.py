"""Issue #21, /settings: the owner's time zone by city, quiet-hours window, morning/evening
hours for due times, and the phone country."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.accounts import settings
from core.accounts.models import Account
from core.accounts.service import phone_region
from core.errors import InvalidInput, PermissionDenied
from core.notifications.outbox import release_time
from core.orders.search import find_orders
from core.tasks import service as tasks
from tests.support.factories import actor_for, join, new_account
from tests.support.orders import add_order


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Новосибирск", "Asia/Novosibirsk"),
        ("novosibirsk", "Asia/Novosibirsk"),
        ("  москва ", "Europe/Moscow"),
        ("Санкт-Петербург", "Europe/Moscow"),
        ("Екатеринбург", "Asia/Yekaterinburg"),
        ("New York", "America/New_York"),
        ("Asia/Tokyo", "Asia/Tokyo"),
    ],
)
def test_a_time_zone_is_found_by_city(typed, zone):
    assert settings.find_timezone(typed) == zone


def test_an_unknown_city_is_refused():
    with pytest.raises(InvalidInput) as err:
        settings.find_timezone("Атлантида")
    assert err.value.code == "timezone_city"


def test_the_quiet_window_is_the_accounts():
    account = Account(timezone="Europe/Moscow", quiet_hours=True, quiet_start=23, quiet_end=7)
    at = datetime(2026, 11, 22, 19, 30, tzinfo=UTC)  # 22:30 in Moscow: not quiet yet
    assert release_time(account, at) == at
    late = datetime(2026, 11, 22, 20, 30, tzinfo=UTC)  # 23:30: held until 07:00
    assert release_time(account, late) == datetime(2026, 11, 23, 4, tzinfo=UTC)
    account.quiet_start, account.quiet_end = 1, 6  # within one night
    assert release_time(account, late) == late
    night = datetime(2026, 11, 22, 23, tzinfo=UTC)  # 02:00
    assert release_time(account, night) == datetime(2026, 11, 23, 3, tzinfo=UTC)


async def test_the_owner_changes_settings_and_others_may_not(uows):
    owner = await new_account(uows)
    admin = await join(uows, owner, 2000, "admin")
    with pytest.raises(PermissionDenied):
        async with uows() as uow:
            await settings.set_timezone(uow, admin, "Омск")
    async with uows() as uow:
        done = await settings.set_timezone(uow, owner, "Омск")
    assert done.timezone == "Asia/Omsk"
    assert (await actor_for(uows, 1000)).timezone == "Asia/Omsk"
    async with uows() as uow:
        done = await settings.set_quiet_window(uow, owner, "23-7")
    assert (done.quiet_hours, done.quiet_start, done.quiet_end) == (True, 23, 7)
    async with uows() as uow:
        assert not (await settings.set_quiet_window(uow, owner, "off")).quiet_hours
    for bad, code in [("9 9", "day_hours"), ("25 8", "hour_format"), ("9", "day_hours")]:
        with pytest.raises(InvalidInput) as err:
            async with uows() as uow:
                await settings.set_day_hours(uow, owner, bad)
        assert err.value.code == code
    with pytest.raises(InvalidInput) as err:
        async with uows() as uow:
            await settings.set_country(uow, owner, "XX")
    assert err.value.code == "country_code"


async def test_day_hours_and_country_reach_due_times_and_phones(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        await settings.set_day_hours(uow, owner, "8 20")
    async with uows() as uow:
        done = await settings.set_country(uow, owner, "kz")
    assert done.country == "KZ"
    owner = await actor_for(uows, 1000)
    await add_order(uows, owner.account_id, "1", customer_phone="+7 701 555 12 34")
    async with uows() as uow:
        row = await tasks.add_task_from_line(uow, owner, "1 Позвонить завтра утром")
    assert row.due_at == datetime(2026, 11, 23, 5, tzinfo=UTC)  # 08:00 in Moscow
    async with uows() as uow:
        account = await uow.session.get(Account, owner.account_id)
        assert phone_region(account) == "KZ"
        found = await find_orders(uow, owner, "8 701 555 12 34")  # a Kazakh local number
    assert [s.number for s in found] == ["1"]
