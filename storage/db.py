"""Engine and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionMaker = async_sessionmaker[AsyncSession]


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 5, **kwargs: Any
) -> AsyncEngine:
    parsed = make_url(url)
    # Statement parameters are tenants' names, numbers and messages: never in an error or log.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_timeout", 10)
        if parsed.get_driver_name() == "asyncpg":
            # An import's staging table is a temporary table, held in the session's own
            # buffers (8 MB by default, fixed once the session used one): 100,000 rows then
            # spill to disk at every step. Memory is taken only by a session that uses it.
            connect_args = kwargs.setdefault("connect_args", {})
            connect_args.setdefault("server_settings", {}).setdefault("temp_buffers", "64MB")
        return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, **kwargs)
    if parsed.database in (None, "", ":memory:"):
        # aiosqlite's :memory: is one private connection per pool slot: data would vanish.
        raise ValueError("use a SQLite file, not an in-memory database")
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
    _serialise_sqlite_writers(engine)
    return engine


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    """SQLite ignores FOR UPDATE. Every transaction starts with BEGIN IMMEDIATE instead, so
    two processes claiming due cases take turns rather than both reading the same rows."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_maker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def describe(error: BaseException) -> str:
    """What an error may say in a log: its kind and where it was raised, never its message:
    a database error's message can quote a row (PostgreSQL's DETAIL: Key (address)=(…))."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    where = (
        f" at {frame.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.tb_lineno}"
        if frame is not None
        else ""
    )
    return f"{type(error).__module__}.{type(error).__name__}{where}"
