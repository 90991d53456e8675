"""Connectors as data: an admin (or the operator's CLI) creates one per platform and gets the URL
to paste and, where we make it, the secret; lists them; pauses, rotates, deletes. And the first
half of every delivery: verify, read, validate, store (the drain applies it later)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from core.accounts.models import Account
from core.accounts.service import phone_region
from core.audit.service import audit
from core.connectors.config import ConnectorConfig
from core.connectors.crypto import Unreadable
from core.connectors.models import (
    Connector,
    ConnectorDelivery,
    ConnectorStatus,
    DeliveryStatus,
)
from core.connectors.platforms import PLATFORMS, platform
from core.connectors.platforms.base import Context, Inbound, Received
from core.db.sql import insert_ignoring_duplicates
from core.db.uow import UnitOfWork
from core.errors import DomainError, InvalidInput, NotFound
from core.intake.tokens import Unauthorized
from core.members.actor import Actor
from core.members.permissions import Perm

TOKEN_BYTES = 24
SECRET_BYTES = 32
MAX_CONNECTORS = 20


class ConnectorPaused(DomainError):
    code = "connector_paused"


class ConnectorBroken(DomainError):
    """The connector's key cannot be read (CONNECTOR_SECRET_KEY changed): HTTP 503."""

    code = "connector_key_unreadable"


@dataclass(frozen=True, slots=True)
class Issued:
    """What the admin pastes into the shop; `secret` is shown this once (None: the shop's own
    key was pasted, or the token is inside the URL)."""

    connector_id: int
    platform: str
    url: str
    secret: str | None
    rotated: bool = False


@dataclass(frozen=True, slots=True)
class ConnectorView:
    id: int
    platform: str
    status: str
    created_at: datetime
    last_delivery_at: datetime | None
    last_test_at: datetime | None
    orders_count: int
    last_error: str | None
    last_error_at: datetime | None
    pending: int


@dataclass(frozen=True, slots=True)
class Accepted:
    outcome: str  # "stored", "duplicate", "test"
    delivery_id: int | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hook_url(config: ConnectorConfig, connector: Connector, token: str | None = None) -> str:
    url = f"{config.hooks_base}/hooks/{connector.platform}/{connector.id}"
    return f"{url}/{token}" if token else url


def _platform(name: str):
    module = platform((name or "").strip().lower())
    if module is None:
        raise InvalidInput("connector_platform", platforms=", ".join(PLATFORMS))
    return module


def _require(actor: Actor) -> None:
    actor.require(Perm.ORDERS_CREATE, Perm.USERS_MANAGE)
    actor.require_writable()


def _pasted(value: str | None, what: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput("connector_needs", what=what)
    if len(cleaned) > 500 or any(c.isspace() for c in cleaned) or "\x00" in cleaned:
        raise InvalidInput("connector_value", what=what)
    return cleaned


@dataclass(frozen=True, slots=True)
class Keys:
    """What the admin pastes for a platform that issues its own keys."""

    secret: str | None = None  # Shopify's signing key, Ecwid's client secret
    store_id: str | None = None  # Ecwid
    store_token: str | None = None  # Ecwid


def _arm(connector: Connector, module, config: ConnectorConfig, keys: Keys) -> Issued:
    """Gives the connector its (new) secret; returns what to paste."""
    if module.AUTH == "token":
        token = secrets.token_urlsafe(TOKEN_BYTES)
        connector.token_hash = hash_token(token)
        return Issued(connector.id, module.NAME, hook_url(config, connector, token), None)
    if not config.box.ready:
        raise InvalidInput("connector_key_missing")
    if module.SECRET_FROM_SHOP:
        secret = _pasted(keys.secret, "secret")
        connector.secret_sealed = config.box.seal(secret)
        if module.NAME == "ecwid":
            store_id = _pasted(keys.store_id, "store_id")
            if not store_id.isdigit() or len(store_id) > 20:
                raise InvalidInput("connector_value", what="store_id")
            connector.store_id = store_id
            connector.store_token_sealed = config.box.seal(_pasted(keys.store_token, "token"))
        return Issued(connector.id, module.NAME, hook_url(config, connector), None)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    connector.secret_sealed = config.box.seal(secret)
    return Issued(connector.id, module.NAME, hook_url(config, connector), secret)


async def _create(
    uow: UnitOfWork,
    account_id: int,
    member_id: int | None,
    name: str,
    config: ConnectorConfig,
    keys: Keys,
) -> Issued:
    module = _platform(name)
    count = len(
        (
            await uow.session.scalars(
                select(Connector.id).where(Connector.account_id == account_id)
            )
        ).all()
    )
    if count >= MAX_CONNECTORS:
        raise InvalidInput("connector_limit", limit=MAX_CONNECTORS)
    connector = Connector(
        account_id=account_id,
        platform=module.NAME,
        status=ConnectorStatus.ACTIVE,
        created_by=member_id,
        created_at=uow.clock.now(),
        orders_count=0,
    )
    uow.session.add(connector)
    await uow.session.flush()
    issued = _arm(connector, module, config, keys)
    audit(uow, member_id, "connector.created", connector, after={"platform": module.NAME})
    await uow.commit()
    return issued


async def create_connector(
    uow: UnitOfWork, actor: Actor, name: str, config: ConnectorConfig, keys: Keys = Keys()
) -> Issued:
    """/connect <platform> …"""
    _require(actor)
    return await _create(uow, actor.account_id, actor.member_id, name, config, keys)


async def create_connector_for_account(
    uow: UnitOfWork, account_id: int, name: str, config: ConnectorConfig, keys: Keys = Keys()
) -> Issued:
    """The CLI (the operator is trusted)."""
    if await uow.session.get(Account, account_id) is None:
        raise NotFound("account_not_found", account=account_id)
    return await _create(uow, account_id, None, name, config, keys)


async def _own(uow: UnitOfWork, account_id: int, connector_id: int) -> Connector:
    connector = await uow.session.get(Connector, connector_id)
    if connector is None or connector.account_id != account_id:
        raise NotFound("connector_not_found", id=connector_id)
    return connector


async def _views(uow: UnitOfWork, account_id: int) -> list[ConnectorView]:
    rows = await uow.session.scalars(
        select(Connector).where(Connector.account_id == account_id).order_by(Connector.id)
    )
    views = []
    for c in rows:
        pending = len(
            (
                await uow.session.scalars(
                    select(ConnectorDelivery.id).where(
                        ConnectorDelivery.connector_id == c.id,
                        ConnectorDelivery.status == DeliveryStatus.PENDING,
                    )
                )
            ).all()
        )
        views.append(
            ConnectorView(
                c.id,
                c.platform,
                c.status,
                c.created_at,
                c.last_delivery_at,
                c.last_test_at,
                c.orders_count,
                c.last_error,
                c.last_error_at,
                pending,
            )
        )
    return views


async def list_connectors(uow: UnitOfWork, actor: Actor) -> list[ConnectorView]:
    actor.require(Perm.ORDERS_CREATE, Perm.USERS_MANAGE)
    return await _views(uow, actor.account_id)


async def list_connectors_for_account(uow: UnitOfWork, account_id: int) -> list[ConnectorView]:
    return await _views(uow, account_id)


async def _set_status(
    uow: UnitOfWork, account_id: int, member_id: int | None, connector_id: int, paused: bool
) -> ConnectorView:
    connector = await _own(uow, account_id, connector_id)
    status = ConnectorStatus.PAUSED if paused else ConnectorStatus.ACTIVE
    if connector.status != status:
        before = {"status": connector.status}
        connector.status = status
        audit(
            uow, member_id, "connector.status", connector, before=before, after={"status": status}
        )
        await uow.commit()
    return next(v for v in await _views(uow, account_id) if v.id == connector_id)


async def set_paused(
    uow: UnitOfWork, actor: Actor, connector_id: int, paused: bool
) -> ConnectorView:
    _require(actor)
    return await _set_status(uow, actor.account_id, actor.member_id, connector_id, paused)


async def set_paused_for_account(
    uow: UnitOfWork, account_id: int, connector_id: int, paused: bool
) -> ConnectorView:
    return await _set_status(uow, account_id, None, connector_id, paused)


async def _rotate(
    uow: UnitOfWork,
    account_id: int,
    member_id: int | None,
    connector_id: int,
    config: ConnectorConfig,
    keys: Keys,
) -> Issued:
    connector = await _own(uow, account_id, connector_id)
    module = _platform(connector.platform)
    if module.SECRET_FROM_SHOP and module.NAME == "ecwid":
        # Only the client secret changes unless new store keys come with it.
        keys = Keys(
            keys.secret,
            keys.store_id or connector.store_id,
            keys.store_token or config.box.open(connector.store_token_sealed or ""),
        )
    issued = _arm(connector, module, config, keys)
    audit(uow, member_id, "connector.rotated", connector, after={"platform": module.NAME})
    await uow.commit()
    return Issued(issued.connector_id, issued.platform, issued.url, issued.secret, rotated=True)


async def rotate_secret(
    uow: UnitOfWork, actor: Actor, connector_id: int, config: ConnectorConfig, keys: Keys = Keys()
) -> Issued:
    """A new URL token or webhook secret (the old one stops working at once); for a platform
    that issues its own key, the newly pasted one."""
    _require(actor)
    return await _rotate(uow, actor.account_id, actor.member_id, connector_id, config, keys)


async def rotate_for_account(
    uow: UnitOfWork,
    account_id: int,
    connector_id: int,
    config: ConnectorConfig,
    keys: Keys = Keys(),
) -> Issued:
    return await _rotate(uow, account_id, None, connector_id, config, keys)


async def _delete(
    uow: UnitOfWork, account_id: int, member_id: int | None, connector_id: int
) -> None:
    connector = await _own(uow, account_id, connector_id)
    audit(uow, member_id, "connector.deleted", connector, before={"platform": connector.platform})
    await uow.session.execute(
        delete(ConnectorDelivery).where(ConnectorDelivery.connector_id == connector_id)
    )
    await uow.session.delete(connector)
    await uow.commit()


async def delete_connector(uow: UnitOfWork, actor: Actor, connector_id: int) -> None:
    """Orders it brought stay; its URL answers 404 from now on."""
    _require(actor)
    await _delete(uow, actor.account_id, actor.member_id, connector_id)


async def delete_for_account(uow: UnitOfWork, account_id: int, connector_id: int) -> None:
    await _delete(uow, account_id, None, connector_id)


# ---- deliveries ------------------------------------------------------------------------------


async def note_error(uow: UnitOfWork, connector_id: int, error: str) -> None:
    """Shown in /connectors: the last thing that went wrong with this connector's deliveries."""
    await uow.session.execute(
        update(Connector)
        .where(Connector.id == connector_id)
        .values(last_error=error[:500], last_error_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )
    await uow.commit()


def describe(exc: DomainError) -> str:
    """A short, customer-data-free description of a refused delivery for /connectors."""
    field = exc.params.get("field")
    return f"{exc.code} ({field})" if field else exc.code


async def accept_delivery(
    uow: UnitOfWork,
    config: ConnectorConfig,
    platform_name: str,
    connector_id: int,
    token: str | None,
    inbound: Inbound,
) -> Accepted:
    """Verify first, then read and validate, then store: the caller answers 2xx only when this
    returns. A wrong signature stores nothing; a bad order stores nothing either (its error is
    noted on the connector, since it came from the shop)."""
    module = platform(platform_name)
    connector = await uow.session.get(Connector, connector_id) if module else None
    if connector is None or connector.platform != module.NAME:
        raise NotFound("connector_not_found", id=connector_id)
    if connector.status == ConnectorStatus.PAUSED:
        raise ConnectorPaused()
    if module.AUTH == "token":
        if token is None or not _same_hash(token, connector.token_hash):
            raise Unauthorized("hook_signature")
    elif module.is_ping(inbound):
        return await _tested(uow, connector)
    else:
        try:
            key = config.box.open(connector.secret_sealed or "")
        except Unreadable as exc:
            await note_error(uow, connector.id, "connector_key_unreadable")
            raise ConnectorBroken() from exc
        if not module.verify(inbound, key):
            raise Unauthorized("hook_signature")
    if module.is_ping(inbound):
        return await _tested(uow, connector)
    try:
        received = module.receive(inbound)
        if connector.store_id and received.store_ref != connector.store_id:
            # One Ecwid app serves many stores with one client secret: only this one's orders.
            raise InvalidInput("hook_store", field="storeId")
        if not getattr(module, "FETCHES", False):
            account = await uow.session.get(Account, connector.account_id)
            module.to_order(received.payload, context_for(connector, received, account, config))
    except InvalidInput as exc:
        await note_error(uow, connector.id, describe(exc))
        raise
    return await _store(uow, connector, received)


def _same_hash(token: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(hash_token(token), stored)


def context_for(
    connector: Connector, received: Received, account: Account, config: ConnectorConfig
) -> Context:
    return Context(
        platform=connector.platform,
        connector_id=connector.id,
        region=phone_region(account, config.default_region),
        store_ref=received.store_ref,
        event=received.event,
    )


async def _tested(uow: UnitOfWork, connector: Connector) -> Accepted:
    connector.last_test_at = uow.clock.now()
    await uow.commit()
    return Accepted("test")


async def _store(uow: UnitOfWork, connector: Connector, received: Received) -> Accepted:
    now = uow.clock.now()
    row = {
        "connector_id": connector.id,
        "account_id": connector.account_id,
        "delivery_key": received.delivery_key,
        "event": received.event,
        "store_ref": received.store_ref,
        "payload": received.payload,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "not_before": now,
        "received_at": now,
    }
    insert = (
        insert_ignoring_duplicates(uow, ConnectorDelivery)
        .values(**row)
        .returning(ConnectorDelivery.id)
    )
    new_id = (await uow.session.execute(insert)).scalar()
    connector.last_delivery_at = now
    await uow.commit()
    return Accepted("stored" if new_id is not None else "duplicate", new_id)
