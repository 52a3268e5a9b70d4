"""Statements that differ per backend, kept in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Select,
    String,
    Table,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import operators
from sqlalchemy.sql.expression import UnaryExpression


def insert_ignoring_conflicts(session: AsyncSession | AsyncConnection, model: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for the session's (or connection's) backend."""
    dialect = (
        session.dialect if isinstance(session, AsyncConnection) else session.get_bind().dialect
    )
    if dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    return sqlite.insert(model).on_conflict_do_nothing()


def upsert(session: AsyncSession, model: Any, key: list[str], values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE with the given values, for the session's backend."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values)
    return statement.on_conflict_do_update(
        index_elements=key,
        set_={name: getattr(statement.excluded, name) for name in values if name not in key},
    )


async def plan_for_bulk(session: AsyncSession) -> None:
    """Within a bulk load, let set-based steps sort and hash the whole list in memory, not in
    temporary files (PostgreSQL).

    Not ``plan_cache_mode = force_custom_plan``: the foreign-key checks are cached plans run
    once per inserted row, and forcing them to be planned each time tripled their cost.
    The planner's statistics are kept true instead (``analyze_if_grown``).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL work_mem = '64MB'"))


async def refresh_statistics(session: AsyncSession) -> None:
    """Let PostgreSQL's planner see the rows a bulk load added (SQLite plans without)."""
    if session.get_bind().dialect.name == "postgresql":
        for table in ("tenants", "contact_points", "cases", "arrears_snapshots", "case_events"):
            await session.execute(text(f"ANALYZE {table}"))


def claim(statement: Select[Any]) -> Select[Any]:
    """Lock the selected rows so another worker skips them (PostgreSQL). SQLite drops the
    clause; there every transaction starts with BEGIN IMMEDIATE (storage.db) instead."""
    return statement.with_for_update(skip_locked=True)


def json_object(session: AsyncSession, **values: Any) -> Any:
    """A JSON object built by the database from columns (for INSERT … SELECT)."""
    build = func.json_build_object if session.get_bind().dialect.name == "postgresql" else None
    pairs = [part for name, value in values.items() for part in (literal(name), value)]
    return build(*pairs) if build is not None else func.json_object(*pairs)


# ---- many rows at once (the tick): one statement per table, not one per row ------------------


def _values(dialect: Any, column: Any, values: list[Any]) -> list[Any]:
    """What SQLAlchemy itself would hand the driver for each value of the column."""
    process = column.type.bind_processor(dialect)
    return [process(value) for value in values] if process else values


def _unbounded(column_type: Any) -> Any:
    """A column's type for a parameter, a string without its length: the driver casts each
    parameter to its type, and PostgreSQL's cast to VARCHAR(n) cuts a longer value short
    where the column itself would refuse it (and a comparison would match what it is not)."""
    return String() if isinstance(column_type, String) else column_type


def _arrays(table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]]) -> Any:
    """unnest(:a, :b, …) AS given(a, b, …): the rows sent as one array per column."""
    arrays = [
        bindparam(
            f"all_{name}",
            [row[name] for row in rows],
            type_=ARRAY(_unbounded(table.c[name].type), dimensions=1),
        )
        for name in names
    ]
    return func.unnest(*arrays).table_valued(*names, name="given").render_derived()


def _given(
    table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]], key: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """The rows as ``unnest`` of one array per column that varies, and each column's value
    in them: a column with one value in every row (a batch's status, moment, template) is
    sent once, as encoding each element of an array of equal values cost a third of the
    statement's Python time."""
    first = rows[0]
    varying = [n for n in names if n == key or not _same(first[n], [r[n] for r in rows])]
    given = _arrays(table, varying or names[:1], rows)  # at least one array: the rows
    return given, {
        name: given.c[name]
        if name in given.c
        else cast(
            bindparam(f"one_{name}", first[name], type_=table.c[name].type),
            _unbounded(table.c[name].type),
        )
        for name in names
    }


def _same(value: Any, values: list[Any]) -> bool:
    """Whether every value is this one as the database would store it: of one type (True ==
    1, but not in a column), and a dict or list the one object (equal dicts may differ in
    JSON: {"a": 1} == {"a": True})."""
    if isinstance(value, dict | list):
        return all(v is value for v in values)
    kind = type(value)
    return all(v is value or (type(v) is kind and v == value) for v in values)


async def _each_row(
    session: AsyncSession, statement: Any, rows: Sequence[dict[str, Any]], table: Table
) -> None:
    """SQLite: the statement prepared once and run over the rows by the driver, values
    processed column by column rather than SQLAlchemy's statement per row."""
    dialect = session.get_bind().dialect
    compiled = statement.compile(dialect=dialect)
    # A bind parameter may not share its column's name in INSERT and UPDATE: each_<name>.
    order = [name.removeprefix("each_") for name in compiled.positiontup]
    columns = [_values(dialect, table.c[name], [row[name] for row in rows]) for name in order]
    connection = await session.connection()
    await connection.exec_driver_sql(str(compiled), list(zip(*columns, strict=True)))


async def insert_many(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    ignore_conflicts: bool = False,
    returning: Sequence[str] = (),
) -> list[Any]:
    """INSERT rows in one statement; the ``returning`` columns of those that went in (with
    ``ignore_conflicts``, not those a unique key turned away). Every row names the same
    columns, among them every column the model gives a default: none is filled in here."""
    if not rows:
        return []
    names = list(rows[0])
    # Core statements on the session's connection: the ORM has no part in these rows.
    connection = await session.connection()
    if session.get_bind().dialect.name == "postgresql":
        given, values = _given(table, names, rows)
        statement = postgresql.insert(table).from_select(
            names, select(*(values[n] for n in names)).select_from(given), include_defaults=False
        )
        if ignore_conflicts:
            statement = statement.on_conflict_do_nothing()
        if returning:
            return list(
                await connection.execute(statement.returning(*(table.c[n] for n in returning)))
            )
        await connection.execute(statement)
        return []
    lite = sqlite.insert(table)
    lite = lite.on_conflict_do_nothing() if ignore_conflicts else lite
    if returning:
        # The driver's executemany returns nothing; a multi-row VALUES does.
        return list(
            await connection.execute(lite.returning(*(table.c[n] for n in returning)), list(rows))
        )
    each = lite.values({name: bindparam(f"each_{name}") for name in names})
    await _each_row(session, each, rows, table)
    return []


async def update_many(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], key: str = "id"
) -> None:
    """UPDATE rows by ``key``, each to its own values (every row the same columns), in one
    statement."""
    if not rows:
        return
    names = [name for name in rows[0] if name != key]
    connection = await session.connection()
    if session.get_bind().dialect.name == "postgresql":
        given, values = _given(table, [key, *names], rows, key)
        await connection.execute(
            update(table)
            .where(table.c[key] == given.c[key])
            .values({name: values[name] for name in names})
        )
        return
    statement = (
        update(table)
        .where(table.c[key] == bindparam(f"each_{key}"))
        .values({name: bindparam(f"each_{name}") for name in names})
    )
    await _each_row(session, statement, rows, table)


def among(session: AsyncSession | AsyncConnection, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values`` for a batch's worth of values, sent as one parameter rather
    than one per value (a statement with thousands of parameters costs more to build and
    plan than to run): PostgreSQL ``= ANY(array)``, SQLite ``IN (SELECT … json_each)``."""
    bind = session if isinstance(session, AsyncConnection) else session.get_bind()
    if bind.dialect.name == "postgresql":
        return column == func.any(
            bindparam(None, list(values), type_=ARRAY(_unbounded(column.type)))
        )
    given = func.json_each(bindparam(None, list(values), type_=JSON)).table_valued("value")
    return column.in_(select(given.c.value))


def unindexed(session: AsyncSession | AsyncConnection, column: Any) -> Any:
    """The column in a term no index may serve, on SQLite (``+column``, its documented way).

    SQLite plans without statistics: offered an index on a column that barely narrows
    (``cases.status``), it may take it over the one that finds the rows, and read and sort
    every open case for each batch. PostgreSQL plans from statistics and gets the column
    as it is."""
    bind = session if isinstance(session, AsyncConnection) else session.get_bind()
    if bind.dialect.name == "postgresql":
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


# Rows a statement may add before PostgreSQL's planner must be told (its estimates for a
# table that was empty moments ago turn a hash join into a nested loop over every row).
ANALYZE_AFTER = 1000


# Within a bulk load the planner needs row counts and rough distributions, not fine
# histograms: a sample a tenth of the default size is enough, and ten times cheaper to take.
# The tables are analysed in full once the load is done (``refresh_statistics``).
QUICK_STATISTICS = 10


async def analyze_if_grown(session: AsyncSession, table: str, added: int) -> None:
    """ANALYZE ``table`` within a bulk load when it grew by many rows (PostgreSQL)."""
    if added >= ANALYZE_AFTER:
        await analyze_quickly(session, table)


async def analyze_quickly(session: AsyncSession, table: str) -> None:
    """Tell PostgreSQL's planner about a table's rows, from a small sample."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SET LOCAL default_statistics_target = {QUICK_STATISTICS}"))
        await session.execute(text(f"ANALYZE {table}"))
        await session.execute(text("RESET default_statistics_target"))
