"""Unit of work: one session, one transaction; only services commit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock


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


class UnitOfWorkFactory:
    """Builds a fresh unit of work per update, job run or CLI command."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)
