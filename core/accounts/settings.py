"""/settings: what the owner sets for the whole account.

Time zone (typed as a city, in Russian or English, or as an IANA name; stored as IANA), the
quiet-hours window alerts wait out, the hours "утром"/"вечером" mean in due times, and the
country phone numbers without a +code are read in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from babel.dates import get_timezone_location

from core.accounts.models import Account
from core.accounts.service import phone_region
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, PermissionDenied
from core.members.actor import Actor

# Cities people type that have no zone of their own (the zone's own city is found by name).
CITY_ALIASES = {
    "санкт-петербург": "Europe/Moscow",
    "петербург": "Europe/Moscow",
    "спб": "Europe/Moscow",
    "saint petersburg": "Europe/Moscow",
    "st petersburg": "Europe/Moscow",
    "казань": "Europe/Moscow",
    "нижний новгород": "Europe/Moscow",
    "ростов-на-дону": "Europe/Moscow",
    "краснодар": "Europe/Moscow",
    "воронеж": "Europe/Moscow",
    "челябинск": "Asia/Yekaterinburg",
    "пермь": "Asia/Yekaterinburg",
    "уфа": "Asia/Yekaterinburg",
    "тюмень": "Asia/Yekaterinburg",
    "алматы": "Asia/Almaty",
    "минск": "Europe/Minsk",
}


@dataclass(frozen=True, slots=True)
class AccountSettings:
    timezone: str
    quiet_hours: bool
    quiet_start: int
    quiet_end: int
    morning_hour: int
    evening_hour: int
    country: str  # the phone region in effect (RU when unset)
    # Working hours, claim timers and the distribution of new orders (docs/guide.md).
    work_start: int = 9
    work_end: int = 18
    work_days: str = "12345"
    claim_minutes: int = 15
    distribution: str = "claim"
    open_cap: int = 20
    shift_auto_off: bool = False
    digest_hour: int = 9  # the local hour of the morning digest (core.digest)


def _settings(account: Account) -> AccountSettings:
    return AccountSettings(
        timezone=account.timezone,
        quiet_hours=account.quiet_hours,
        quiet_start=account.quiet_start,
        quiet_end=account.quiet_end,
        morning_hour=account.morning_hour,
        evening_hour=account.evening_hour,
        country=phone_region(account),
        work_start=account.work_start,
        work_end=account.work_end,
        work_days=account.work_days,
        claim_minutes=account.claim_minutes,
        distribution=account.distribution,
        open_cap=account.open_cap,
        shift_auto_off=account.shift_auto_off,
        digest_hour=account.digest_hour,
    )


def _key(name: str) -> str:
    return " ".join(name.replace("ё", "е").replace("_", " ").lower().split())


@cache
def _cities() -> dict[str, str]:
    """City name (ru and en, as Babel's CLDR data spells it) → IANA zone."""
    found: dict[str, str] = {}
    for zone in sorted(available_timezones()):
        if "/" not in zone or zone.startswith(("Etc/", "SystemV/", "US/")):
            continue
        found.setdefault(_key(zone.rsplit("/", 1)[1]), zone)
        for locale in ("ru", "en"):
            try:
                city = get_timezone_location(zone, locale=locale, return_city=True)
            except (LookupError, ValueError):
                continue
            found.setdefault(_key(city), zone)
    found.update({_key(k): v for k, v in CITY_ALIASES.items()})
    return found


def find_timezone(text: str) -> str:
    """'Новосибирск', 'novosibirsk', 'Asia/Novosibirsk' → 'Asia/Novosibirsk'."""
    text = " ".join((text or "").split())
    if "/" in text:
        try:
            ZoneInfo(text)
        except (ValueError, KeyError):
            pass
        else:
            return text
    zone = _cities().get(_key(text))
    if zone is None:
        raise InvalidInput("timezone_city", value=text[:60])
    return zone


_WINDOW = re.compile(r"^(\d{1,2})(?::00)?\s*[-–—]\s*(\d{1,2})(?::00)?$")


def read_hour(text: str) -> int:
    match = re.fullmatch(r"(\d{1,2})(?::00)?", text.strip())
    if match is None or not 0 <= int(match[1]) <= 23:
        raise InvalidInput("hour_format", value=text.strip()[:20])
    return int(match[1])


def _require_owner(actor: Actor) -> None:
    if not actor.is_owner:
        raise PermissionDenied("owner_only")


async def account_settings(uow: UnitOfWork, actor: Actor) -> AccountSettings:
    _require_owner(actor)
    return _settings(await uow.session.get(Account, actor.account_id))


async def _change(uow: UnitOfWork, actor: Actor, **values) -> AccountSettings:
    _require_owner(actor)
    actor.require_writable()
    account = await uow.session.get(Account, actor.account_id)
    before = {key: getattr(account, key) for key in values}
    if before != values:
        for key, value in values.items():
            setattr(account, key, value)
        audit(uow, actor, "account.settings_changed", account, before=before, after=values)
        await uow.commit()
    return _settings(account)


async def set_timezone(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    return await _change(uow, actor, timezone=find_timezone(text))


async def set_quiet_window(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    """'22-8' (22:00 to 08:00 local), or 'off'/'выкл' for none."""
    text = (text or "").strip().lower()
    if text in ("off", "выкл", "нет", "no"):
        return await _change(uow, actor, quiet_hours=False)
    match = _WINDOW.match(text)
    if match is None:
        raise InvalidInput("quiet_window", value=text[:20])
    start, end = int(match[1]), int(match[2])
    if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
        raise InvalidInput("quiet_window", value=text[:20])
    return await _change(uow, actor, quiet_hours=True, quiet_start=start, quiet_end=end)


async def set_day_hours(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    """'9 19': what morning and evening mean in due times."""
    parts = (text or "").split()
    if len(parts) != 2:
        raise InvalidInput("day_hours", value=(text or "").strip()[:20])
    morning, evening = read_hour(parts[0]), read_hour(parts[1])
    if morning >= evening:
        raise InvalidInput("day_hours", value=(text or "").strip()[:20])
    return await _change(uow, actor, morning_hour=morning, evening_hour=evening)


async def set_country(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    """An ISO 3166 alpha-2 code (KZ, BY, DE…) phone numbers without +code are read in."""
    code = (text or "").strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput("country_code", value=code[:10])
    return await _change(uow, actor, country=code)


# ---- working hours, claim timers and the distribution of new orders ---------------------------

CLAIM_MINUTES = (1, 24 * 60)
OPEN_CAP = (1, 1000)
_DAYS = re.compile(r"^([1-7])\s*[-–—]\s*([1-7])$")
DISTRIBUTIONS = {
    "claim": "claim",
    "заявка": "claim",
    "вручную": "claim",
    "auto": "auto",
    "авто": "auto",
    "автоматически": "auto",
}


def _whole(text: str, bounds: tuple[int, int], code: str) -> int:
    text = (text or "").strip()
    if not text.isdigit() or not bounds[0] <= int(text) <= bounds[1]:
        raise InvalidInput(code, value=text[:20], low=bounds[0], high=bounds[1])
    return int(text)


def read_days(text: str) -> str:
    """'1-5' or '12345' (ISO weekdays, Monday = 1) → '12345'."""
    text = text.strip()
    match = _DAYS.match(text)
    if match is not None and int(match[1]) <= int(match[2]):
        return "".join(str(d) for d in range(int(match[1]), int(match[2]) + 1))
    if text and all(c in "1234567" for c in text):
        return "".join(sorted(set(text)))
    raise InvalidInput("work_days", value=text[:20])


async def set_work_hours(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    """'9-18' (local hours, the end exclusive) and optionally the days: '9-18 1-5'."""
    hours, _sep, days = (text or "").strip().partition(" ")
    match = _WINDOW.match(hours)
    if match is None:
        raise InvalidInput("work_hours", value=(text or "").strip()[:20])
    start, end = int(match[1]), int(match[2])
    if not 0 <= start < end <= 23:
        raise InvalidInput("work_hours", value=(text or "").strip()[:20])
    values = {"work_start": start, "work_end": end}
    if days.strip():
        values["work_days"] = read_days(days)
    return await _change(uow, actor, **values)


async def set_claim_minutes(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    """How many working minutes an order may wait unclaimed (re-announced after, escalated
    after twice as long)."""
    return await _change(uow, actor, claim_minutes=_whole(text, CLAIM_MINUTES, "claim_minutes"))


async def set_distribution(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    """'claim' (announced, someone claims) or 'auto' (to a manager on shift)."""
    mode = DISTRIBUTIONS.get((text or "").strip().lower())
    if mode is None:
        raise InvalidInput("distribution", value=(text or "").strip()[:20])
    return await _change(uow, actor, distribution=mode)


async def set_open_cap(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    """The most open orders auto-assignment gives one manager."""
    return await _change(uow, actor, open_cap=_whole(text, OPEN_CAP, "open_cap"))


async def set_shift_auto_off(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    """'on': every shift ends at the close of working hours."""
    word = (text or "").strip().lower()
    if word in ("on", "вкл", "да", "yes"):
        return await _change(uow, actor, shift_auto_off=True)
    if word in ("off", "выкл", "нет", "no"):
        return await _change(uow, actor, shift_auto_off=False)
    raise InvalidInput("switch_word", value=word[:20])
async def set_digest_hour(uow: UnitOfWork, actor: Actor, text: str) -> AccountSettings:
    """'9' or '9:00': the local hour the morning digest goes out on working days."""
    return await _change(uow, actor, digest_hour=read_hour(text))
