"""Everything we hold on one tenant, as one JSON-ready dict: the answer to a request to see
one's data (AVG art. 15). Reads only.

Which tables are about a tenant is derived from the schema, not listed by hand: the tenant's
row, every table with a `tenant_id` or `case_id` column (selected by the tenant and its
cases only, so a message from an address the tenant shares with others is not shown to
them unless it was tied to them), and any other table with a foreign key into those. Each
table is either in `COVERED` (where it goes in the document) or in `LEFT_OUT` (why not);
tests/test_tenant_export.py fails when a table is neither, so a new table is a decision.
Columns kept out (secrets, leases, internal handles) are in `OMITTED_COLUMNS`, each with
its reason, and the document says what was kept out and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, MetaData, Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base

LEGAL_BASIS = "AVG art. 15"
TITLE = "Alle gegevens die wij over u bewaren (inzage, AVG art. 15)"
_DIRECT_KEYS = ("tenant_id", "case_id")

# Where each table about the tenant goes: "top" beside the tenant, "case" inside each case
# (the record of the case reads as one story).
COVERED: dict[str, str] = {
    "tenants": "top",
    "contact_points": "top",
    "arrears_snapshots": "top",
    "cases": "top",
    "case_events": "case",
    "payment_plans": "case",
    "handovers": "case",
    "municipality_signals": "case",
    "messages": "top",
    "dialogues": "top",
    "link_tokens": "top",
}

# Tables not exported, with the reason. Only tables that hold nothing about a tenant, or
# what they hold is already in the document in full.
LEFT_OUT: dict[str, str] = {
    "users": "consultants' accounts; who acted on a case is named in its events",
    "web_sessions": "consultants' logins",
    "login_throttle": "failed logins of consultants, by client address",
    "send_budgets": "the providers' send rate, for all tenants together",
    "import_batches": "the corporation's daily lists; each snapshot names the list it came "
    "from (file name and time of import)",
    "signal_batches": "a batch of signals to the municipality; each signal about this tenant "
    "is in the document with its time",
}

# (table, column): why the column is not in the document.
OMITTED_COLUMNS: dict[tuple[str, str], str] = {
    ("link_tokens", "token"): "the link code itself: it would let whoever holds the "
    "document tie a chat to the tenant",
    ("messages", "claim_token"): "which worker process held the message while sending",
    ("messages", "claimed_until"): "a worker's lease on the message while sending",
    ("messages", "provider_id"): "the provider's own reference for the message",
    ("messages", "idempotency_key"): "an internal key that keeps a message from going twice",
    ("messages", "context"): "the values the text was written from; the text as sent is "
    "in the body",
    ("messages", "respect_quiet_hours"): "an internal sending setting",
    ("cases", "assignee_id"): "a colleague's account; who acted is named in the events",
    ("cases", "version"): "a change counter for the workplace",
}

# Link codes also appear in the texts that carried them (and in "/start CODE" from the
# tenant): replaced there, for the reason given for link_tokens.token.
_REDACTED = "[koppelcode verwijderd]"


def about_tenant(metadata: MetaData) -> list[Table]:
    """The tables that hold data about a tenant, in foreign-key order: the tenants table,
    every table with a tenant_id or case_id column, and every table with a foreign key into
    one of those (transitively)."""
    linked: list[Table] = []
    names: set[str] = set()
    for table in metadata.sorted_tables:
        direct = table.name == "tenants" or any(key in table.c for key in _DIRECT_KEYS)
        parents = {fk.column.table.name for fk in table.foreign_keys}
        if direct or parents & names:
            linked.append(table)
            names.add(table.name)
    return linked


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def _value(value: Any, codes: re.Pattern[str] | None) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()  # aware UTC (storage.types.UTCDateTime): "+00:00"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return codes.sub(_REDACTED, value) if codes else value
    if isinstance(value, Mapping):
        return {str(k): _value(v, codes) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_value(v, codes) for v in value]
    return value


def _row(table: Table, row: Mapping[str, Any], codes: re.Pattern[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        if (table.name, column.name) in OMITTED_COLUMNS:
            continue
        value = row[column.name]
        out[column.name] = _value(value, codes)
        if column.name.endswith("_cents") and isinstance(value, int):
            out[column.name.removesuffix("_cents") + "_euros"] = _euros(value)
    return out


async def _rows(
    session: AsyncSession, table: Table, where: Sequence[ColumnElement[bool]]
) -> list[dict[str, Any]]:
    if not where:  # no key reaches the tenant: nothing, never every row
        return []
    result = await session.execute(
        select(table).where(or_(*where)).order_by(*table.primary_key.columns)
    )
    return [dict(row) for row in result.mappings()]


def _where(table: Table, found: Mapping[str, list[dict[str, Any]]]) -> list[ColumnElement[bool]]:
    """How a table's rows about the tenant are found. By tenant_id and case_id where the
    table has them, and then by nothing else: another key (a shared contact point) could
    reach a row that is someone else's."""
    ids = {name: [row["id"] for row in rows if "id" in row] for name, rows in found.items()}
    if any(key in table.c for key in _DIRECT_KEYS):
        where: list[ColumnElement[bool]] = []
        if "tenant_id" in table.c:
            where.append(table.c.tenant_id.in_(ids["tenants"]))
        if "case_id" in table.c and table.name != "cases":
            where.append(table.c.case_id.in_(ids.get("cases", [])))
        return where
    return [
        fk.parent.in_(ids[fk.column.table.name])
        for fk in table.foreign_keys
        if fk.column.table.name in ids and fk.column.name == "id"
    ]


def _codes(link_rows: Iterable[Mapping[str, Any]]) -> re.Pattern[str] | None:
    codes = sorted({str(row["token"]) for row in link_rows if row.get("token")}, key=len)
    return re.compile("|".join(re.escape(c) for c in reversed(codes))) if codes else None


async def _sources(session: AsyncSession, batch_ids: set[int]) -> dict[int, dict[str, Any]]:
    batches = Base.metadata.tables["import_batches"]
    if not batch_ids:
        return {}
    result = await session.execute(
        select(batches.c.id, batches.c.filename, batches.c.imported_at).where(
            batches.c.id.in_(sorted(batch_ids))
        )
    )
    return {
        row.id: {"list": row.filename, "imported_at": row.imported_at.isoformat()} for row in result
    }


def _recipients(cases: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """To whom data about the tenant was given (art. 15(1)(c)): chain partners and the
    municipality."""
    given = []
    for case in cases:
        for handover in case.get("handovers", []):
            given.append(
                {
                    "recipient": handover["partner_name"],
                    "kind": handover["partner_kind"],
                    "at": handover["created_at"],
                    "case_id": case["id"],
                }
            )
        for signal in case.get("municipality_signals", []):
            given.append(
                {
                    "recipient": f"gemeente {signal['municipality'] or '(onbekend)'}",
                    "kind": "municipality_early_signal",
                    "at": signal["created_at"],
                    "case_id": case["id"],
                }
            )
    return sorted(given, key=lambda item: item["at"])


async def export_tenant(
    session: AsyncSession,
    external_ref: str,
    *,
    generated_at: datetime,
    generated_by: str,
    controller: str | None,
) -> dict[str, Any] | None:
    """The document for the tenant with this reference; None if there is none. Call on a
    fresh session: every table is read in one transaction, on PostgreSQL one read-only
    snapshot, so the parts agree with each other."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    tables = [t for t in about_tenant(Base.metadata) if t.name not in LEFT_OUT]
    tenants = Base.metadata.tables["tenants"]
    found: dict[str, list[dict[str, Any]]] = {
        "tenants": await _rows(session, tenants, [tenants.c.external_ref == external_ref])
    }
    if not found["tenants"]:
        return None
    for table in tables:
        if table.name != "tenants":
            found[table.name] = await _rows(session, table, _where(table, found))
    codes = _codes(found.get("link_tokens", []))
    sources = await _sources(
        session, {row["batch_id"] for row in found.get("arrears_snapshots", [])}
    )
    by_name = {table.name: table for table in tables}
    shaped = {
        name: [_row(by_name[name], row, codes) for row in rows] for name, rows in found.items()
    }
    for snapshot in shaped.get("arrears_snapshots", []):
        snapshot["source"] = sources.get(snapshot["batch_id"])
    cases = shaped.get("cases", [])
    for case in cases:
        for name, place in COVERED.items():
            if place == "case" and name in shaped:
                case[name] = [row for row in shaped[name] if row["case_id"] == case["id"]]
    document: dict[str, Any] = {
        "about": {
            "title": TITLE,
            "legal_basis": LEGAL_BASIS,
            "tenant_ref": external_ref,
            "controller": controller,
            "generated_at": generated_at.isoformat(),
            "generated_by": generated_by,
            "formats": "times ISO 8601 in UTC; amounts in cents, with euros beside them",
            "counts": {name: len(rows) for name, rows in found.items()},
            "recipients": _recipients(cases),
            "not_included": [
                {"what": f"{table}.{column}", "why": why}
                for (table, column), why in OMITTED_COLUMNS.items()
                if table in found
            ],
        },
        "tenant": shaped["tenants"][0],
    }
    for name, rows in shaped.items():
        if name != "tenants" and COVERED.get(name, "top") == "top":
            document[name] = rows
    return document
