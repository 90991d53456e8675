"""Signing Telegram Mini App initData the way Telegram does, for a test bot token."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import urlencode

from core.settings import Settings

TEST_TOKEN = "123456:TEST-webapp-token"
OTHER_TOKEN = "654321:another-bots-token"
BOARD_URL = "http://127.0.0.1/app/"


def webapp_settings(database_url: str, **overrides) -> Settings:
    """Settings with the Mini App on, for the test bot's token."""
    values = {
        "database_url": database_url,
        "bot_token": TEST_TOKEN,
        "webapp_url": BOARD_URL,
        **overrides,
    }
    return Settings(_env_file=None, **values)


def sign_init_data(
    telegram_id: int,
    auth_date: datetime,
    *,
    token: str = TEST_TOKEN,
    first_name: str = "Test",
    username: str | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    user = {"id": telegram_id, "first_name": first_name, "language_code": "ru"}
    if username:
        user["username"] = username
    fields = {
        "query_id": "AAH-test",
        "user": json.dumps(user, separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(int(auth_date.timestamp())),
        **(extra or {}),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)
