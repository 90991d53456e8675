"""Unit of work: one session, one transaction; only services commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from core.clock import Clock
from core.db.engine import READONLY

_READ_OPTIONS = {READONLY: True}


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self.clock = clock
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._sessions()
        return self._session

    def reading(self) -> ReadStep:
        """`async with uow.reading() as conn:` for statements that only read, run on `conn`.

        On SQLite, when no transaction is open, the step takes none: no write lock, each SELECT
        reads the latest commit (as PostgreSQL's READ COMMITTED does), and ending the step
        costs no round trip. Inside an open transaction, or on PostgreSQL, the statements run
        in the unit of work's transaction as usual. `conn` executes Core statements without the
        ORM's row loading; pending ORM changes are flushed first, so the reads see them."""
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
    __slots__ = ("_own", "_uow")

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._own = False

    async def __aenter__(self) -> AsyncConnection:
        session = self._uow.session
        if session.new or session.dirty or session.deleted:
            await session.flush()  # in a write transaction: the step reads inside it
        elif not session.in_transaction() and session.bind.dialect.name == "sqlite":
            self._own = True
            return await session.connection(execution_options=_READ_OPTIONS)
        return await session.connection()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._own:
            return
        # No BEGIN was sent, so this only hands the connection back. Commit, unlike rollback,
        # keeps what earlier transactions loaded (expire_on_commit is off).
        if exc_type is None:
            await self._uow.session.commit()
        else:
            await self._uow.session.rollback()


class UnitOfWorkFactory:
    """Builds a fresh unit of work per update, job run or CLI command."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)
