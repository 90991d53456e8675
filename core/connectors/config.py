"""What the connectors need from configuration, handed over by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from core.connectors.crypto import SecretBox


@dataclass(frozen=True)
class ConnectorConfig:
    box: SecretBox
    hooks_base: str  # where shops post: https://shopdesk.example.com
    default_region: str = "RU"
    ecwid_api_base: str = "https://app.ecwid.com/api/v3"
    fetch_timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings) -> ConnectorConfig:
        key = settings.connector_secret_key
        return cls(
            box=SecretBox(key.get_secret_value() if key else None),
            hooks_base=settings.hooks_base,
            default_region=settings.default_phone_region,
            ecwid_api_base=settings.ecwid_api_base,
            fetch_timeout=settings.connector_fetch_timeout_seconds,
        )
