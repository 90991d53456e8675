"""Configuration from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.connectors.crypto import check_key
from core.db.engine import PostgresOptions
from core.invoices.operator import load_operator
from core.tariff.catalog import load_catalog

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/shopdesk.db"
OFFICIAL_API_BASE = "https://api.telegram.org"
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = Field(default=10, ge=1, le=200)
    # PostgreSQL only. Each connection starts with these (0: no limit); its application name is
    # "<DATABASE_APPLICATION_NAME>-<role>" (bot, cli, migrate), as pg_stat_activity shows it.
    database_statement_timeout_seconds: float = Field(default=30, ge=0, le=24 * 3600)
    database_lock_timeout_seconds: float = Field(default=5, ge=0, le=3600)
    database_application_name: str = Field(default="shopdesk", pattern=r"^[A-Za-z0-9_.-]{1,48}$")
    # "pgbouncer": PgBouncer in transaction mode in front of PostgreSQL (no statement caches;
    # set the timeouts on the database role instead, PgBouncer refuses them at connect).
    database_pooler: Literal["none", "pgbouncer"] = "none"
    telegram_api_base: str = OFFICIAL_API_BASE
    # Telegram unreachable at start: the menu / webhook registration (and getMe) is retried in
    # the background, the delay doubling from 2 s up to this many seconds (jittered).
    telegram_retry_max_seconds: float = Field(default=60, gt=0, le=3600)
    default_locale: Literal["ru", "en"] = "ru"
    default_timezone: str = "Europe/Moscow"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    invite_ttl_hours: int = Field(default=48, ge=1, le=24 * 30)
    send_per_second: float = Field(default=30, gt=0, le=1000)
    send_per_chat_per_second: float = Field(default=1, gt=0, le=100)
    send_group_per_minute: int = Field(default=20, ge=1, le=1000)
    # A process that dies leaves the messages it had taken to others after this many seconds.
    outbox_lease_seconds: int = Field(default=300, ge=5, le=3600)
    flood_per_second: int = Field(default=20, ge=1, le=1000)
    redis_url: str | None = None
    # Updates one process handles at once, in both modes; past it a webhook post gets 503.
    max_concurrent_updates: int = Field(default=64, ge=1, le=10_000)
    # Webhook mode: an update taken by a process that died is handled by another after this
    # many seconds (a live process keeps extending the lease of what it is working on).
    inbox_lease_seconds: float = Field(default=30, ge=1, le=3600)
    shutdown_grace_seconds: float = Field(default=15, ge=0, le=600)
    # How often the scheduler applies the services lifecycle, and looks for alerts to send.
    renewals_every_minutes: float = Field(default=5, gt=0, le=24 * 60)
    alerts_every_minutes: float = Field(default=15, gt=0, le=24 * 60)

    # Retention (the "retention" job, hourly): finished outbox messages (sent, skipped, failed,
    # unreachable) are deleted this many days after they were written, in batches of this many
    # rows (one transaction each). Days: at least 15, as a sent message is also the record that
    # its event was told (the alerts of the 14-day return window must not be told twice).
    retention_days: int = Field(default=30, ge=15, le=3650)
    retention_outbox_days: int | None = Field(default=None, ge=15, le=3650)  # None: RETENTION_DAYS
    retention_batch_size: int = Field(default=1000, ge=1, le=100_000)
    # "json": one JSON object per log line (time, level, logger, message, update / account /
    # request id when known); "text": the classic one-line format.
    log_format: Literal["text", "json"] = "text"

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:6379/0")
        return value

    # Tariffs, the extra-user price and prepay discounts; None: core/tariff/tariffs.toml.
    tariff_catalog: Path | None = None
    # The operator's legal and bank details on invoices (TOML, deploy/operator.example.toml);
    # None: the built-in sample (core/tariff/operator.toml), fit for the demo only.
    operator_details: Path | None = None
    # The Telegram chat (the operator's own) that may send bank statements to the bot.
    operator_chat_id: int | None = None
    # A payment below its invoice: "hold" (the invoice is partly paid, nothing is credited until
    # the rest arrives) or "balance" (the money goes to the services balance at once).
    invoice_underpayment: Literal["hold", "balance"] = "hold"
    # Webhook mode: Telegram posts updates to WEBHOOK_URL (served on HTTP_HOST:HTTP_PORT at its
    # path, behind your HTTPS proxy); empty: long polling.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    http_host: str = "127.0.0.1"
    # The intake API: requests per account (its token) a minute, shared by the fleet with
    # REDIS_URL; requests without a valid token a minute per client address, refused before
    # any database query; reverse proxies (comma-separated) whose X-Forwarded-For
    # names the client (addresses or networks, e.g. 172.16.0.0/12).
    intake_per_minute: int = Field(default=120, ge=1, le=100_000)
    intake_failures_per_minute: int = Field(default=30, ge=1, le=100_000)
    http_trusted_proxies: str = ""
    # What this deployment keeps in Redis (dialogs, their locks, update marks, flood counters,
    # rate limits) lives under REDIS_PREFIX: deployments sharing one Redis set different ones.
    redis_prefix: str = Field(default="shopdesk", min_length=1, max_length=80)
    # The rate limits' own prefix; empty: REDIS_PREFIX + ":limits".
    rate_limits_prefix: str | None = Field(default=None, min_length=1, max_length=100)
    http_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port
    # Store connectors (docs/connectors.md). PUBLIC_URL: the address shops post to (the URLs
    # /connect shows); empty: WEBHOOK_URL's origin, else http://HTTP_HOST:HTTP_PORT.
    public_url: str | None = None
    # A Fernet key (`python -m bot connectors keygen`) that encrypts the HMAC keys connectors
    # verify with; unset: only token connectors (Tilda, InSales) can be created.
    connector_secret_key: SecretStr | None = None
    ecwid_api_base: str = "https://app.ecwid.com/api/v3"
    connector_fetch_timeout_seconds: float = Field(default=10, gt=0, le=120)
    default_phone_region: str = Field(default="RU", pattern=r"^[A-Z]{2}$")

    @field_validator("connector_secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        check_key(value.get_secret_value())  # raises ValueError naming the problem
        return value

    @field_validator("public_url", "ecwid_api_base")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")) or not urlsplit(value).netloc:
            raise ValueError("expected an http:// or https:// address")
        return value.rstrip("/")

    @property
    def hooks_base(self) -> str:
        """Where shops post: PUBLIC_URL, else WEBHOOK_URL's origin, else the listening address."""
        if self.public_url:
            return self.public_url
        if self.webhook_url:
            parts = urlsplit(self.webhook_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"http://{self.http_host}:{self.http_port}"
    # The order board as a Telegram Mini App, served at /app/ by the HTTP server: the public
    # https:// address of that page (empty: no Mini App). Telegram's initData older than
    # WEBAPP_AUTH_MAX_AGE_HOURS is refused; WEBAPP_DEV_LOGIN lets a desktop browser sign in
    # by Telegram id without Telegram (development only, never in production).
    webapp_url: str | None = None
    webapp_auth_max_age_hours: float = Field(default=24, gt=0, le=24 * 30)
    webapp_dev_login: bool = False
    webapp_poll_seconds: float = Field(default=3, ge=0.5, le=300)

    @field_validator("webapp_url")
    @classmethod
    def _webapp_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")) or not urlsplit(value).netloc:
            raise ValueError("expected the page's public https:// address, ending in /app/")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")) or not urlsplit(value).netloc:
            raise ValueError("expected the public https:// address Telegram posts updates to")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not _SECRET.match(value.get_secret_value()):
            raise ValueError("use 16–256 characters: letters, digits, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET must be set with WEBHOOK_URL")
        return self

    def postgres_options(self, role: str) -> PostgresOptions:
        """How this process's PostgreSQL connections start; `role`: bot, cli or migrate."""
        return PostgresOptions(
            application_name=f"{self.database_application_name}-{role}",
            statement_timeout=self.database_statement_timeout_seconds,
            lock_timeout=self.database_lock_timeout_seconds,
            pooler=self.database_pooler,
        )

    @property
    def trusted_proxies(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(p.strip(), strict=False) for p in self._proxies())

    def _proxies(self) -> list[str]:
        return [part for part in self.http_trusted_proxies.split(",") if part.strip()]

    @field_validator("http_trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        f"{part.strip()!r} is not an address or network, e.g. 172.16.0.0/12"
                    ) from None
        return value

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url).path or "/" if self.webhook_url else "/telegram/webhook"

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("tariff_catalog", "operator_details", "operator_chat_id", mode="before")
    @classmethod
    def _blank_is_builtin(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("tariff_catalog")
    @classmethod
    def _readable_catalog(cls, value: Path | None) -> Path | None:
        load_catalog(value)  # raises CatalogError (a ValueError) naming the problem
        return value

    @field_validator("operator_details")
    @classmethod
    def _readable_operator(cls, value: Path | None) -> Path | None:
        load_operator(value)  # raises OperatorError (a ValueError) naming the problem
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        bot_id, _, secret = value.get_secret_value().partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("expected the token @BotFather gave, like 123456:ABC-DEF")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path.db or postgresql+asyncpg://…")
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _http_base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// address")
        return value.rstrip("/")


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}, expected e.g. Europe/Moscow") from exc
    return value


class SettingsError(Exception):
    """Start-up configuration is invalid; the message names each bad variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "WEBHOOK_SECRET"
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("Invalid configuration — " + "; ".join(lines)) from None
