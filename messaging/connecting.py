"""How the send path reaches the database, where every message costs a few statements.

Plain connections rather than ORM sessions: a session costs more than the statements of a
small transaction. And on PostgreSQL a claim, a reservation and a group of records are each
one statement run on its own (a statement is atomic there), which saves the round trips of
BEGIN and COMMIT. SQLite keeps its transactions: each begins IMMEDIATE (``storage.db``),
which is what keeps two processes from claiming the same rows.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncEngine

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
