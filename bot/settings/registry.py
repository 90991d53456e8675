"""Every account setting /settings shows, in one table: each is one `Entry`.

The screen lists `label: value` for each entry and a button per entry; the button asks for a new
value (`prompt`), the typed answer goes to the entry's core setter, which reads, validates,
saves and audits it (a domain error is put into words by bot/errors.py and the question stays
open), and the screen is shown again. `/settings KEY VALUE` does the same in one line.

To add a setting (say, the claim timer):

1. core: a column on Account (with its migration), a field on `core.accounts.settings.
   AccountSettings` filled in `_settings`, and a setter `async def set_x(uow, actor, text) ->
   AccountSettings` that raises InvalidInput for a bad value and saves through `_change`
   (owner only, read-only accounts refused, one audit entry);
2. here: one `Entry` in `ENTRIES`, in the order the screen lists them:

       Entry(
           key="claim",  # the /settings word and the button's id: a-z, at most 16 letters
           label=__("Claim timer"),
           shown=lambda s: _("{minutes} min").format(minutes=s.claim_minutes),
           prompt=__("How many minutes may an order wait? For example: 15."),
           save=service.set_claim_minutes,
       ),

3. the new strings into both catalogs (make locales-update, translate, make locales).

Nothing else changes: the screen, its buttons, the one-line form and the dialog read this table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from aiogram.utils.i18n.lazy_proxy import LazyProxy

from bot.format import q, weekdays
from core.accounts import settings as service
from core.accounts.settings import AccountSettings
from core.db.uow import UnitOfWork
from core.members.actor import Actor

Setter = Callable[[UnitOfWork, Actor, str], Awaitable[AccountSettings]]


@dataclass(frozen=True, slots=True)
class Entry:
    key: str  # the word after /settings and the button's id
    label: LazyProxy | str  # what the setting is called
    shown: Callable[[AccountSettings], str]  # its current value, as text (HTML-escaped)
    prompt: LazyProxy | str  # how to type a new value
    save: Setter  # the core setter: reads, validates, saves, audits
    aliases: tuple[str, ...] = ()  # other words for it after /settings


def _quiet(s: AccountSettings) -> str:
    if not s.quiet_hours:
        return _("off")
    return _("{start}:00–{end}:00").format(start=s.quiet_start, end=f"{s.quiet_end:02}")


def _work(s: AccountSettings) -> str:
    return f"{s.work_start:02}:00–{s.work_end:02}:00, {weekdays(s.work_days)}"


def _claim(s: AccountSettings) -> str:
    return ngettext(
        "{n} working minute, escalated after twice that",
        "{n} working minutes, escalated after twice that",
        s.claim_minutes,
    ).format(n=s.claim_minutes)


def _distribution(s: AccountSettings) -> str:
    if s.distribution == "auto":
        return _("automatic, to the manager on shift with the fewest open orders")
    return _("claim: announced, whoever claims first")


ENTRIES: tuple[Entry, ...] = (
    Entry(
        key="tz",
        label=__("Time zone"),
        shown=lambda s: q(s.timezone),
        prompt=__("Write a city (Novosibirsk, Yekaterinburg) or a zone like Asia/Novosibirsk."),
        save=service.set_timezone,
        aliases=("timezone",),
    ),
    Entry(
        key="quiet",
        label=__("Quiet hours for alerts"),
        shown=_quiet,
        prompt=__("Write the quiet hours like 23-7 (from 23:00 to 07:00), or off."),
        save=service.set_quiet_window,
    ),
    Entry(
        key="hours",
        label=__("“In the morning” / “in the evening” in due times"),
        shown=lambda s: f"{s.morning_hour:02}:00 / {s.evening_hour}:00",
        prompt=__("Write two hours, morning then evening, like 9 19."),
        save=service.set_day_hours,
    ),
    Entry(
        key="country",
        label=__("Country for phone numbers without a +code"),
        shown=lambda s: q(s.country),
        prompt=__("Write the country's two letters, like RU, KZ or BY."),
        save=service.set_country,
    ),
    # Working hours, claim timers and the distribution of new orders (core.orders.claims,
    # core.orders.distribution, core.orders.shifts).
    Entry(
        key="work",
        label=__("Working hours"),
        shown=_work,
        prompt=__("Write the hours and the days like 9-18 1-5 (Monday is 1)."),
        save=service.set_work_hours,
    ),
    Entry(
        key="claim",
        label=__("Time to claim an order"),
        shown=_claim,
        prompt=__("How many working minutes may an order wait unclaimed? For example: 15."),
        save=service.set_claim_minutes,
    ),
    Entry(
        key="distribution",
        label=__("New orders"),
        shown=_distribution,
        prompt=__(
            "Write auto (to the manager on shift with the fewest open orders) or claim "
            "(announced, whoever claims first)."
        ),
        save=service.set_distribution,
    ),
    Entry(
        key="cap",
        label=__("Open orders per manager at most"),
        shown=lambda s: str(s.open_cap),
        prompt=__("Write a number, like 20: automatic distribution gives nobody more."),
        save=service.set_open_cap,
    ),
    Entry(
        key="shiftoff",
        label=__("Shifts end at the close of working hours"),
        shown=lambda s: _("yes") if s.shift_auto_off else _("no"),
        prompt=__("Write on or off."),
        save=service.set_shift_auto_off,
    ),
    # The morning digest (core.digest): the local hour it goes out on working days.
    Entry(
        key="digest",
        label=__("Morning digest at"),
        shown=lambda s: f"{s.digest_hour:02}:00",
        prompt=__("Write the hour the morning digest goes out on working days, like 9."),
        save=service.set_digest_hour,
    ),
)


def find(word: str) -> Entry | None:
    word = word.strip().lower()
    return next((e for e in ENTRIES if word == e.key or word in e.aliases), None)
