"""How the send path reaches the database, where every message costs a few statements.

Plain connections rather than ORM sessions: a session costs more than the statements of a
small transaction. And on PostgreSQL a claim, a reservation and a group of records are each
one statement run on its own (a statement is atomic there), which saves the round trips of
BEGIN and COMMIT. SQLite keeps its transactions: each begins IMMEDIATE (``storage.db``),
which is what keeps two processes from claiming the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import SessionMaker

# Making an engine with other options takes longer than a statement: once per engine.
_autocommit: WeakKeyDictionary[AsyncEngine, AsyncEngine] = WeakKeyDictionary()


def engine_of(sessions: SessionMaker) -> AsyncEngine:
    """The engine the sessions are bound to."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine):
        raise TypeError("the sessions must be bound to one engine")
    return engine


def one_statement(engine: AsyncEngine) -> AsyncEngine:
    """The engine for work done in one statement: on PostgreSQL without BEGIN and COMMIT
    around it (``begin()`` then only marks the block)."""
    if engine.dialect.name != "postgresql":
        return engine
    autocommit = _autocommit.get(engine)
    if autocommit is None:
        autocommit = _autocommit[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return autocommit


class KeptConnection:
    """One connection for one user of the send path that runs a statement (or, on SQLite, a
    transaction) at a time: the claims, the turns, the group commits. While ``keep()`` is
    open the connection stays checked out between blocks, since taking one from the pool
    and giving it back costs twice what the statement does; otherwise each block takes one.

    A block that raises (or is cancelled mid-statement) throws its connection away, as its
    state is then unknown; the next block connects anew."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = one_statement(engine)
        self._connection: AsyncConnection | None = None
        self._keeping = 0
        self._lock = asyncio.Lock()  # blocks run one at a time, whoever starts them

    @contextlib.asynccontextmanager
    async def keep(self) -> AsyncIterator[None]:
        self._keeping += 1
        try:
            yield
        finally:
            self._keeping -= 1
            if not self._keeping and self._connection is not None:
                connection, self._connection = self._connection, None
                await connection.close()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """Like ``AsyncEngine.begin()`` on ``one_statement(engine)``."""
        async with self._lock:
            connection, self._connection = self._connection, None
            if connection is None:
                connection = await self._engine.connect()
            try:
                async with connection.begin():
                    yield connection
            except BaseException:
                await _throw_away(connection)
                raise
            if self._keeping:
                self._connection = connection
            else:
                await connection.close()


async def _throw_away(connection: AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        await connection.invalidate()
    with contextlib.suppress(Exception):
        await connection.close()


def statements(
    db: AsyncEngine | KeptConnection,
) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
    """A block of the send path's work: on a kept connection, or on one from the pool."""
    return db.begin() if isinstance(db, KeptConnection) else one_statement(db).begin()
