"""Engine factory. SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE transactions; statements
of read-only steps (`UnitOfWork.reading`) run outside any transaction, locking nothing.

SQL parameters are never logged nor put into exception messages (`hide_parameters`): they hold
customers' names, phones and addresses. Nor are result rows (SQLAlchemy's "Row ..." lines at
DEBUG) or aiosqlite's DEBUG lines, which repeat each statement with its parameters, nor
PostgreSQL's error DETAIL, which can quote the failing row.

PostgreSQL sessions start with a statement timeout, a lock timeout and an application name
(`PostgresOptions`, from the DATABASE_* settings): a runaway query or a lock queue stops, and
`pg_stat_activity` tells which ShopDesk process holds a connection."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
# The execution option that marks the connection of a read-only step (SQLite only).
READONLY = "shopdesk_readonly"


class _NoDataInLogs(logging.Filter):
    """Drops the log lines that would carry stored data, whatever the logging level."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "aiosqlite":
            return record.levelno > logging.DEBUG
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


_NO_DATA = _NoDataInLogs()


def _keep_data_out_of_logs() -> None:
    for name in ("sqlalchemy.engine.Engine", "aiosqlite"):
        logger = logging.getLogger(name)
        if _NO_DATA not in logger.filters:
            logger.addFilter(_NO_DATA)


class ReadOnlyStepWrite(RuntimeError):
    """A statement that writes ran inside `UnitOfWork.reading`: a bug in the calling code."""


POOLERS = ("none", "pgbouncer")


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    """How each PostgreSQL connection starts (asyncpg `server_settings`, sent at connect time,
    so no statement is spent on them). Timeouts in seconds; 0 turns one off."""

    application_name: str = "shopdesk"
    statement_timeout: float = 30.0
    lock_timeout: float = 5.0
    # "pgbouncer": a pooler in transaction mode sits in front. A server connection then serves
    # another client after each transaction, so nothing may outlive one: no prepared-statement
    # caches (asyncpg's and SQLAlchemy's), unique statement names; and PgBouncer refuses
    # startup parameters it does not know, so the timeouts are left to the database role
    # (ALTER ROLE … SET statement_timeout …, see docs/operations.md).
    pooler: str = "none"

    def __post_init__(self) -> None:
        if self.pooler not in POOLERS:
            raise ValueError(f"pooler must be one of {POOLERS}, not {self.pooler!r}")

    def connect_args(self, given: dict | None = None) -> dict:
        """asyncpg's connect arguments; the `server_settings` of `given` are added to ours."""
        given = dict(given or {})
        server_settings = {"application_name": self.application_name}
        if self.pooler == "none":
            server_settings["statement_timeout"] = _milliseconds(self.statement_timeout)
            server_settings["lock_timeout"] = _milliseconds(self.lock_timeout)
        server_settings.update(given.pop("server_settings", None) or {})
        args: dict = {"server_settings": server_settings}
        if self.pooler == "pgbouncer":
            args.update(
                statement_cache_size=0,  # asyncpg's own cache
                prepared_statement_cache_size=0,  # SQLAlchemy's asyncpg dialect's cache
                prepared_statement_name_func=_statement_name,
            )
        args.update(given)
        return args


def _milliseconds(seconds: float) -> str:
    return str(round(seconds * 1000))


def _statement_name() -> str:
    """Unique per statement: behind PgBouncer, the server connection may already hold
    asyncpg's numbered names from another client."""
    return f"__asyncpg_{uuid.uuid4().hex}__"


# A pooled PostgreSQL connection is pinged at checkout only when it sat in the pool at least
# this long (seconds). One that came back from a request a moment ago is alive; pinging it
# anyway cost a round trip per checkout — one per intake request (issue #25).
PING_AFTER_IDLE = 1.0
_IDLE_SINCE = "shopdesk_idle_since"


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    connect_args: dict | None = None,
    postgres: PostgresOptions | None = None,
    ping_after_idle: float = PING_AFTER_IDLE,
) -> AsyncEngine:
    _keep_data_out_of_logs()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args=(postgres or PostgresOptions()).connect_args(connect_args),
    )
    _ping_when_idle(engine, ping_after_idle)
    event.listen(engine.sync_engine, "handle_error", _drop_error_detail)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle: float) -> None:
    """SQLAlchemy's `pool_pre_ping`, for connections idle at least `idle` seconds: a dead one
    (the server restarted, a proxy dropped it) is replaced before use, as with the pre-ping;
    one checked in less than `idle` ago is handed out as it is. A fresh connection is not
    pinged (its `info` is new: no check-in time)."""
    dialect = engine.sync_engine.dialect

    def checked_in(dbapi_connection, record) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_connection, record, proxy) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool invalidates it and connects anew (up to 3 tries)
            raise DisconnectionError("the pooled connection did not answer a ping") from exc

    event.listen(engine.sync_engine, "checkin", checked_in)
    event.listen(engine.sync_engine, "checkout", checked_out)


def _drop_error_detail(context) -> None:
    """PostgreSQL's DETAIL can quote the data ("Failing row contains (…, customer name, phone,
    …)"), and asyncpg prints it with the error, so a logged traceback would carry the row. The
    message and SQLSTATE stay; the detail goes."""
    error, seen = context.original_exception, 0
    while error is not None and seen < 5:
        if getattr(error, "detail", None):
            error.detail = None
        error, seen = error.__cause__ or error.__context__, seen + 1


def _sqlite_engine(url: str, *, echo: bool) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Take over transaction control from the driver so BEGIN can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _begin_or_read(connection, cursor, statement, _params, context, _many) -> None:
        if connection.get_execution_options().get(READONLY):
            # Without a transaction a write would commit piecemeal: refuse it, as PostgreSQL
            # refuses writes in a READ ONLY transaction.
            if context is not None and (context.isinsert or context.isupdate or context.isdelete):
                raise ReadOnlyStepWrite(statement)
            return
        if not connection.connection.driver_connection.in_transaction:
            # The first statement of a transaction takes the write lock first. A read-then-
            # write transaction that began deferred fails at once with SQLITE_BUSY when another
            # writer got in first; taking the lock up front queues it instead.
            cursor.execute("BEGIN IMMEDIATE")

    _skip_idle_ends(engine.sync_engine.dialect)
    return engine


def _skip_idle_ends(dialect: Dialect) -> None:
    """COMMIT/ROLLBACK only when SQLite has a transaction open. A connection that only read, or
    was ended already, has nothing to end, and asking aiosqlite's thread to do nothing costs a
    round trip. The driver's own transaction control is off, so `in_transaction` is exact."""
    rollback, commit = dialect.do_rollback, dialect.do_commit

    def busy(dbapi_connection) -> bool:
        try:
            return dialect.get_driver_connection(dbapi_connection).in_transaction
        except ValueError:  # closed: nothing to end
            return False

    def do_rollback(dbapi_connection) -> None:
        if busy(dbapi_connection):
            rollback(dbapi_connection)

    def do_commit(dbapi_connection) -> None:
        if busy(dbapi_connection):
            commit(dbapi_connection)

    dialect.do_rollback, dialect.do_commit = do_rollback, do_commit


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"
