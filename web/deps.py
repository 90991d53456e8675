"""What the HTTP adapter needs from the rest of the process, handed over by the composition root.

web/ imports core only: whatever belongs to the Telegram side (the dispatcher that takes
webhook updates, the bot's English texts of domain errors, waking the outbox sender)
arrives here as a plain callable built in shopdesk/app.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from aiohttp import web

from core.connectors.config import ConnectorConfig
from core.db.uow import UnitOfWorkFactory
from core.errors import DomainError
from core.limits import Limiter
from core.metrics import Metrics
from web.app.deps import WebAppDeps
from web.webhook import WebhookEndpoint

# A named check of /readyz: it returns when the dependency answers and raises when it does not.
# A check given as None is a dependency this process does not use (no REDIS_URL): "off".
# A check that returns PENDING is reported so but does not count against readiness: something
# the process retries on its own and works without meanwhile (Telegram, in long polling).
HealthCheck = Callable[[], Awaitable[object]]
PENDING = "pending"


@dataclass(frozen=True)
class IntakeLimits:
    """How much the intake API takes (see web/intake.py: `post_order`)."""

    limiter: Limiter  # shared by the fleet when REDIS_URL is set, else this process's memory
    per_minute: int = 120  # requests per account (its API token), counted after authentication
    failures_per_minute: int = 30  # requests without a valid token, per client address
    # Reverse proxies (addresses or networks) whose X-Forwarded-For names the client.
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()


@dataclass(frozen=True)
class WebDeps:
    uows: UnitOfWorkFactory
    metrics: Metrics
    health: Mapping[str, HealthCheck | None]  # /readyz: every check must answer
    explain: Callable[[DomainError], str]  # a domain error in English, for API error bodies
    wake: Callable[[], None]  # a request wrote outbox rows (announcements): send them now
    host: str
    port: int  # 0: any free port (WebServer.port tells which)
    intake_limits: IntakeLimits
    webhook: WebhookEndpoint | None = None  # None: long polling, no webhook route
    connectors: ConnectorConfig | None = None  # None: /hooks/… answers 404
    hooks_wake: Callable[[], None] = lambda: None  # a delivery was stored: apply it now
    webapp: WebAppDeps | None = None  # None: no Mini App (WEBAPP_URL unset)


DEPS: web.AppKey[WebDeps] = web.AppKey("shopdesk_web_deps")
