"""Sealing the keys a connector needs in clear (HMAC keys, Ecwid's store token): Fernet with the
key from CONNECTOR_SECRET_KEY. Without that setting no such key can be stored (decided: never
derive one from another secret, so rotating the bot token cannot make connectors unreadable).

`cryptography` (≈8 MB resident) is imported on the first seal or open, not at start: checking the
key's shape needs only base64, as Fernet itself checks it."""

from __future__ import annotations

import base64
import binascii
import os

from core.errors import InvalidInput


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()  # what Fernet.generate_key does


def check_key(key: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(key.strip().encode())
    except (binascii.Error, ValueError, TypeError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(
            "expected a Fernet key (32 bytes, URL-safe base64): "
            "`python -m bot connectors keygen` prints one"
        ) from None


class Unreadable(Exception):
    """A sealed value this key cannot open (the key was changed)."""


class SecretBox:
    def __init__(self, key: str | None) -> None:
        self._key = key.strip() if key else None
        self._fernet = None

    @property
    def ready(self) -> bool:
        return self._key is not None

    def _box(self):
        if self._fernet is None:
            from cryptography.fernet import Fernet

            self._fernet = Fernet(self._key.encode())
        return self._fernet

    def seal(self, value: str) -> str:
        if self._key is None:
            raise InvalidInput("connector_key_missing")
        return self._box().encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        if self._key is None:
            raise Unreadable("CONNECTOR_SECRET_KEY is not set")
        from cryptography.fernet import InvalidToken

        try:
            return self._box().decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise Unreadable("sealed with another CONNECTOR_SECRET_KEY") from None
