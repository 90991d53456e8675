"""The outgoing status webhook: on every status change or assignment of an order, ShopDesk POSTs
a small JSON document to the account's URL, signed with X-ShopDesk-Signature (base64
HMAC-SHA256 of the body, keyed with the secret shown once when the hook was set).

Written as a `status_posts` row in the transaction of the change (event_key unique: one post per
change), sent by `send_due` under a lease like the outbox, retried with backoff; the receiver
can tell a repeat (after a crash between its 2xx and our record) by X-ShopDesk-Delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import and_, or_, select, update

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.audit.service import audit
from core.connectors.config import ConnectorConfig
from core.connectors.crypto import Unreadable
from core.connectors.kicker import worker_name
from core.connectors.models import StatusHook, StatusPost, StatusPostStatus
from core.db.sql import insert_ignoring_duplicates, lease_due
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.errors import InvalidInput
from core.members.actor import Actor
from core.members.permissions import Perm
from core.orders.models import Order

log = logging.getLogger(__name__)

SIGNATURE = "X-ShopDesk-Signature"
DELIVERY = "X-ShopDesk-Delivery"
MAX_ATTEMPTS = 12  # about a day with the backoff below
LEASE = timedelta(minutes=2)
BATCH = 50
LOG_SIZE = 5
TIMEOUT = 10.0
EVERY = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class HookSet:
    url: str
    secret: str  # shown this once


@dataclass(frozen=True, slots=True)
class PostView:
    id: int
    event: str
    number: str
    status: str
    attempts: int
    last_code: int | None
    last_error: str | None
    created_at: datetime


def sign(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): what X-ShopDesk-Signature carries."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def encode(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _check_url(url: str) -> str:
    cleaned = (url or "").strip()
    parts = urlsplit(cleaned)
    if parts.scheme not in ("https", "http") or not parts.netloc or len(cleaned) > 500:
        raise InvalidInput("status_hook_url")
    return cleaned


async def set_hook(uow: UnitOfWork, actor: Actor, url: str, config: ConnectorConfig) -> HookSet:
    """Sets (or replaces, with a new secret) the account's status webhook."""
    actor.require(Perm.USERS_MANAGE)
    actor.require_writable()
    cleaned = _check_url(url)
    if not config.box.ready:
        raise InvalidInput("connector_key_missing")
    secret = secrets.token_urlsafe(32)
    hook = await uow.session.scalar(
        select(StatusHook).where(StatusHook.account_id == actor.account_id)
    )
    if hook is None:
        hook = StatusHook(account_id=actor.account_id, created_at=uow.clock.now())
        uow.session.add(hook)
    hook.url, hook.secret_sealed, hook.created_by = (
        cleaned,
        config.box.seal(secret),
        actor.member_id,
    )
    await uow.session.flush()
    audit(uow, actor, "status_hook.set", hook, after={"url": cleaned})
    await uow.commit()
    return HookSet(cleaned, secret)


async def remove_hook(uow: UnitOfWork, actor: Actor) -> bool:
    actor.require(Perm.USERS_MANAGE)
    actor.require_writable()
    hook = await uow.session.scalar(
        select(StatusHook).where(StatusHook.account_id == actor.account_id)
    )
    if hook is None:
        return False
    audit(uow, actor, "status_hook.removed", hook, before={"url": hook.url})
    await uow.session.delete(hook)
    await uow.commit()
    return True


async def hook_of(uow: UnitOfWork, account_id: int) -> str | None:
    return await uow.session.scalar(
        select(StatusHook.url).where(StatusHook.account_id == account_id)
    )


async def recent_posts(uow: UnitOfWork, account_id: int) -> list[PostView]:
    rows = await uow.session.scalars(
        select(StatusPost)
        .where(StatusPost.account_id == account_id)
        .order_by(StatusPost.id.desc())
        .limit(LOG_SIZE)
    )
    return [
        PostView(
            r.id,
            r.document.get("event", ""),
            str(r.document.get("order", {}).get("number", "")),
            r.status,
            r.attempts,
            r.last_code,
            r.last_error,
            r.created_at,
        )
        for r in rows
    ]


async def record_change(
    uow: UnitOfWork, account: Account, order: Order, holder: str | None, entry: AuditEntry
) -> int:
    """Queues the document for this change if the account has a status webhook."""
    hook_id = await uow.session.scalar(
        select(StatusHook.id).where(StatusHook.account_id == account.id)
    )
    if hook_id is None:
        return 0
    await uow.session.flush()  # the entry's id makes the key
    now = uow.clock.now()
    key = f"order:{order.id}:hook:{entry.id}"
    document = {
        "delivery_id": key,
        "event": entry.action,
        "order": {
            "id": order.id,
            "number": order.number,
            "external_id": order.external_id,
            "status": str(order.status),
        },
        "assignee": holder,
        "at": now.isoformat(),
    }
    insert = insert_ignoring_duplicates(uow, StatusPost).values(
        account_id=account.id,
        event_key=key,
        document=document,
        status=StatusPostStatus.PENDING.value,
        attempts=0,
        not_before=now,
        created_at=now,
    )
    await uow.session.execute(insert)
    return 1


# ---- sending ---------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … at most 4 hours."""
    return timedelta(seconds=min(4 * 3600, 10 * 2 ** max(0, attempts - 1)))


async def _claim(uow: UnitOfWork, owner: str) -> list[int]:
    now = uow.clock.now()
    t = StatusPost
    due = and_(
        t.status == StatusPostStatus.PENDING,
        t.not_before <= now,
        or_(t.lease_until.is_(None), t.lease_until < now),
    )
    ids = await lease_due(uow, t, t.id, due, owner=owner, until=now + LEASE, limit=BATCH)
    await uow.commit()
    return ids


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return response.status, None
    except (aiohttp.ClientError, TimeoutError) as exc:
        return None, type(exc).__name__


async def _send_one(
    uows: UnitOfWorkFactory, post_id: int, owner: str, config: ConnectorConfig
) -> bool:
    async with uows() as uow:
        post = await uow.session.get(StatusPost, post_id)
        if post is None or post.lease_owner != owner or post.status != StatusPostStatus.PENDING:
            return False
        hook = await uow.session.scalar(
            select(StatusHook).where(StatusHook.account_id == post.account_id)
        )
        document, key = post.document, post.event_key
        url = hook.url if hook else None
        sealed = hook.secret_sealed if hook else None
    code, error = None, "no status webhook"
    if url is not None:
        try:
            secret = config.box.open(sealed)
        except Unreadable as exc:
            secret, error = None, str(exc)
        if secret is not None:
            body = encode(document)
            headers = {
                "Content-Type": "application/json",
                SIGNATURE: sign(secret, body),
                DELIVERY: key,
            }
            code, error = await _post(url, body, headers)
    sent = code is not None and 200 <= code < 300
    async with uows() as uow:
        now = uow.clock.now()
        t = StatusPost
        post = await uow.session.get(t, post_id)
        values: dict = {"attempts": post.attempts + 1, "lease_owner": None, "lease_until": None}
        values["last_code"] = code
        if sent:
            values.update(status=StatusPostStatus.SENT.value, sent_at=now, last_error=None)
        else:
            values["last_error"] = (error or f"HTTP {code}")[:500]
            if url is None or post.attempts + 1 >= MAX_ATTEMPTS:
                values["status"] = StatusPostStatus.FAILED.value
            else:
                values["not_before"] = now + backoff(post.attempts + 1)
        await uow.session.execute(
            update(t)
            .where(t.id == post_id, t.lease_owner == owner, t.status == StatusPostStatus.PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await uow.commit()
    if not sent:
        log.warning("status webhook %s: %s", post_id, error or f"HTTP {code}")
    return sent


async def send_due(
    uows: UnitOfWorkFactory, config: ConnectorConfig, owner: str | None = None
) -> int:
    """Posts every due document once; returns how many were delivered."""
    owner = owner or worker_name()
    sent = 0
    while True:
        async with uows() as uow:
            ids = await _claim(uow, owner)
        for post_id in ids:
            sent += await _send_one(uows, post_id, owner, config)
        if len(ids) < BATCH:
            return sent
