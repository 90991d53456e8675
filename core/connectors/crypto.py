"""Sealing the keys a connector needs in clear (HMAC keys, Ecwid's store token): Fernet with the
key from CONNECTOR_SECRET_KEY. Without that setting no such key can be stored (decided: never
derive one from another secret, so rotating the bot token cannot make connectors unreadable)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from core.errors import InvalidInput


def new_key() -> str:
    return Fernet.generate_key().decode()


def check_key(key: str) -> None:
    try:
        Fernet(key.strip().encode())
    except (ValueError, TypeError):
        raise ValueError(
            "expected a Fernet key (32 bytes, URL-safe base64): "
            "`python -m bot connectors keygen` prints one"
        ) from None


class Unreadable(Exception):
    """A sealed value this key cannot open (the key was changed)."""


class SecretBox:
    def __init__(self, key: str | None) -> None:
        self._fernet = Fernet(key.strip().encode()) if key else None

    @property
    def ready(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str) -> str:
        if self._fernet is None:
            raise InvalidInput("connector_key_missing")
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        if self._fernet is None:
            raise Unreadable("CONNECTOR_SECRET_KEY is not set")
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise Unreadable("sealed with another CONNECTOR_SECRET_KEY") from None
