"""What the Mini App needs from the composition root: checking Telegram's signature (aiogram's
helper lives on the Telegram side), the page's texts and domain errors in the member's words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import DomainError


@dataclass(frozen=True, slots=True)
class TelegramLogin:
    """Who opened the page, as Telegram signed it."""

    telegram_id: int
    auth_date: datetime


@dataclass(frozen=True)
class WebAppDeps:
    # initData → the signed user; raises ValueError when the signature does not hold.
    check_init_data: Callable[[str], TelegramLogin]
    texts: Callable[[str], Mapping[str, str]]  # locale → the page's words
    explain: Callable[[DomainError, str], str]  # a domain error in the given locale
    max_age: timedelta = timedelta(hours=24)  # older initData is refused
    dev_login: bool = False  # `Authorization: dev <telegram id>` from a desktop browser
    poll_seconds: float = 3.0  # how often the page asks for the board again
    default_locale: str = "ru"
