"""Domain errors. Each carries a stable code and parameters; the bot translates them."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, code: str | None = None, **params: Any) -> None:
        self.code = code or self.code
        self.params = params
        super().__init__(self.code, params)


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "permission_denied"


class InvalidInput(DomainError):
    code = "invalid_input"


class Conflict(DomainError):
    code = "conflict"


class TooManyRequests(DomainError):
    """A rate limit refused the request; `seconds`: when to try again."""

    code = "rate_limited"
