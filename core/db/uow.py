"""Unit of work: one session, one transaction; only services commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from core.clock import Clock
from core.db.engine import READONLY


class UnitOfWork:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, chat_menus: bool = False
    ) -> None:
        self._sessions = sessions
        self.clock = clock
        self.chat_menus = chat_menus  # the board is on: members' menu buttons are kept
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._sessions()
        return self._session

    def reading(self) -> ReadStep:
        """`async with uow.reading() as conn:` for statements that only read, run on `conn`.

        On SQLite, outside a write transaction, they run outside any transaction: no write
        lock, each SELECT reads the latest commit (as PostgreSQL's READ COMMITTED does), and
        nothing is left to end; a statement that writes is refused. The first statement after
        the step begins a write transaction as usual. Inside a write transaction, or on
        PostgreSQL, the statements run in the unit of work's transaction. `conn` executes Core
        statements without the ORM's row loading; pending ORM changes are flushed first."""
        return ReadStep(self)

    async def commit(self) -> None:
        if self._session is not None:
            await self._session.commit()

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Whatever a service did not commit is discarded. Loaded objects are detached first so
        # callers can still read what a service returned.
        if self._session is not None:
            self._session.expunge_all()
        await self.rollback()
        await self.close()


class ReadStep:
    __slots__ = ("_marked", "_uow")

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._marked: Connection | None = None

    async def __aenter__(self) -> AsyncConnection:
        session = self._uow.session
        if session.new or session.dirty or session.deleted:
            await session.flush()
        conn = await session.connection()
        marked = conn.sync_connection
        if marked.dialect.name == "sqlite" and not marked.get_execution_options().get(READONLY):
            marked.execution_options(**{READONLY: True})  # in place; no I/O
            self._marked = marked
        return conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._marked is not None:
            self._marked.execution_options(**{READONLY: False})


class UnitOfWorkFactory:
    """Builds a fresh unit of work per update, job run or CLI command."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, chat_menus: bool = False
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        # The deployment serves the board (WEBAPP_URL): membership changes set menu buttons.
        self.chat_menus = chat_menus

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock, self.chat_menus)
