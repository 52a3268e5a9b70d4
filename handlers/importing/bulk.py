"""Many rows in and out, in chunks both SQLite and PostgreSQL take."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
_CHUNK = 5000  # keeps IN lists and parameter counts well inside both backends' limits


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def by_tenant(
    session: AsyncSession, model: Any, tenant_ids: list[int], *where: Any
) -> list[Any]:
    """The rows of ``model`` that belong to these tenants (and match ``where``)."""
    found: list[Any] = []
    for chunk in chunks(tenant_ids):
        found.extend(await session.scalars(select(model).where(model.tenant_id.in_(chunk), *where)))
    return found


async def insert_many(
    session: AsyncSession, model: Any, rows: list[dict[str, Any]], key: Any = None
) -> dict[Any, int]:
    """Insert in chunks; with ``key``, map each new row's key to its id. The key, not the
    row order, ties ids to rows: ordered RETURNING costs SQLite one statement per row."""
    ids: dict[Any, int] = {}
    for chunk in chunks(rows):
        if key is None:
            await session.execute(insert(model), list(chunk))
            continue
        result = await session.execute(insert(model).returning(model.id, key), list(chunk))
        ids.update({row_key: row_id for row_id, row_key in result})
    return ids
