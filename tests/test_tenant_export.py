"""`arrears-bot export-tenant REF` (AVG art. 15): every table about a tenant is exported or
left out with a reason; one tenant's whole history comes out, nobody else's, without
secrets; the command as an operator runs it. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from bot.runtime import Runtime
from handlers.linking import invite
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from storage.models import Base, Dialogue, Message
from storage.tenant_export import COVERED, LEFT_OUT, OMITTED_COLUMNS, about_tenant, export_tenant
from tests.factories import arrears_csv, row
from tests.test_handover_and_signals import month_of_silence
from tests.test_workplace import make_user
from workplace import actions, objections, signals
from workplace.accounts import Role

COMMAND = str(Path(sys.executable).parent / "arrears-bot")
SECRETISH = re.compile(r"token|secret|password|hash|claim|idempotency")


def test_every_table_is_exported_or_left_out_with_a_reason() -> None:
    tables = set(Base.metadata.tables)
    assert not set(COVERED) & set(LEFT_OUT)
    assert tables == set(COVERED) | set(LEFT_OUT), "classify the new table in tenant_export"
    with_keys = {
        t.name for t in Base.metadata.tables.values() if {"tenant_id", "case_id"} & set(t.c.keys())
    }
    assert with_keys <= set(COVERED) | set(LEFT_OUT)
    assert {t.name for t in about_tenant(Base.metadata)} <= set(COVERED)
    assert all(reason.strip() for reason in [*LEFT_OUT.values(), *OMITTED_COLUMNS.values()])
    for table, column in OMITTED_COLUMNS:
        assert column in Base.metadata.tables[table].c, f"{table}.{column} no longer exists"
    for table in about_tenant(Base.metadata):
        for column in table.c:
            if SECRETISH.search(column.name):
                assert (table.name, column.name) in OMITTED_COLUMNS


async def _anna_with_everything(runtime: Runtime, clock: ManualClock) -> tuple[int, str]:
    """Anna after a month of reminders: called by a consultant, signalled, a plan agreed
    in the chat, an objection by phone, handed over, a question open, a link code sent.
    Bob's month runs beside hers. The link code is returned."""
    anna = await month_of_silence(runtime, clock)
    kees = await make_user(runtime, "kees", Role.COORDINATOR)
    now = clock.now()
    async with runtime.sessions() as session, session.begin():
        case = await actions.load_case(session, anna)
        await actions.log_contact(
            session,
            case,
            kees,
            mode=actions.ContactMode.TELEFOON,
            reached=False,
            outcome="Geen gehoor",
            at=now,
            local_hour=10,
            now=now,
        )
    async with runtime.sessions() as session, session.begin():
        await signals.export(session, runtime.policy, [anna], kees, now)
    for n, text in enumerate(["ik kan 100 euro per maand", "ja"]):
        await runtime.receive(
            InboundMessage("whatsapp", "+31612345678", text, f"in-{n}", clock.now())
        )
    async with runtime.sessions() as session, session.begin():
        case = await actions.load_case(session, anna)
        await objections.record(
            session,
            case,
            kees,
            kind="objection",
            how="phone",
            day="2027-01-09",
            hour="10:15",
            note="belde zelf",
            now=now,
            tz=runtime.policy.tz,
        )
        handover = await actions.hand_over(
            session,
            case,
            kees,
            partner=runtime.policy.partners.default[0],
            consent_how="telefonisch",
            dossier={"note": "dossier"},
            now=now,
        )
        await actions.partner_feedback(
            session, case, kees, handover.id, feedback="accepted", note="", now=now
        )
        code = invite(session, case.tenant_id, "telegram", now, 14)
        for case_id, tenant_id in ((anna, case.tenant_id), (anna + 1, case.tenant_id + 1)):
            session.add(
                Dialogue(
                    key=f"test:{case_id}",
                    step="plan_amount",
                    case_id=case_id,
                    tenant_id=tenant_id,
                    data={"asked": True},
                    expires_at=now + timedelta(days=3),
                    updated_at=now,
                )
            )
        session.add(
            Message(
                case_id=anna,
                tenant_id=case.tenant_id,
                direction="out",
                kind="notice",
                channel="sms",
                address="+31612345678",
                body=f"Koppel Telegram: https://t.me/bot?start={code}",
                status="sent",
                provider_id="SM-provider-ref",
                claim_token="claim-secret",
                created_at=now,
            )
        )
    return anna, code


def _rows_with_id(document: dict[str, Any], name: str) -> set[int]:
    if name == "tenants":
        return {document["tenant"]["id"]}
    if COVERED[name] == "case":
        return {r["id"] for case in document["cases"] for r in case[name]}
    return {r["id"] for r in document[name]}


async def test_a_tenant_is_exported_whole_and_alone(runtime: Runtime, clock: ManualClock) -> None:
    anna, code = await _anna_with_everything(runtime, clock)
    moment = clock.now()
    async with runtime.sessions() as session:
        document = await export_tenant(
            session, "T1", generated_at=moment, generated_by="test", controller="Woonconcept"
        )
        assert document is not None
        tenant_id = document["tenant"]["id"]
        # What the database holds about Anna, found here independently, table by table.
        for name, place in COVERED.items():
            table = Base.metadata.tables[name]
            keys = []
            if "tenant_id" in table.c:
                keys.append(table.c.tenant_id == tenant_id)
            if "case_id" in table.c:
                keys.append(table.c.case_id == anna)
            if name == "tenants":
                keys = [table.c.id == tenant_id]
            if name == "cases":
                keys = [table.c.tenant_id == tenant_id]
            held = {r.id for r in await session.execute(select(table.c.id).where(or_(*keys)))}
            assert held, f"the scenario leaves {name} empty: it proves nothing there"
            assert _rows_with_id(document, name) == held, name
            assert place in ("top", "case")
    about = document["about"]
    assert about["legal_basis"] == "AVG art. 15" and about["controller"] == "Woonconcept"
    assert about["generated_at"] == moment.isoformat() and about["tenant_ref"] == "T1"
    assert {r["recipient"] for r in about["recipients"]} == {
        "Schuldhulp van de gemeente",
        "gemeente Meppel",
    }
    text = json.dumps(document, ensure_ascii=False)
    assert "Bob" not in text and "11111111" not in text  # the other tenant
    for secret in (code, "claim-secret", "SM-provider-ref"):
        assert secret not in text
    assert "[koppelcode verwijderd]" in text
    for name in ("claim_token", "claimed_until", "provider_id", "idempotency_key", "token"):
        assert f'"{name}"' not in text
    (case,) = document["cases"]
    kinds = [e["kind"] for e in case["case_events"]]
    for kind in ("opened", "contact_logged", "objection", "handed_over", "signalled"):
        assert kind in kinds
    objection = next(e for e in case["case_events"] if e["kind"] == "objection")
    assert objection["data"]["how"] == "phone" and objection["actor"] == "kees"
    (plan,) = case["payment_plans"]
    assert (plan["amount_cents"], plan["amount_euros"], plan["status"]) == (
        10000,
        "100.00",
        "active",
    )
    assert case["balance_euros"] == "650.00" and case["handovers"][0]["feedback"] == "accepted"
    inbound = [m for m in document["messages"] if m["direction"] == "in"]
    assert [m["body"] for m in inbound] == ["ik kan 100 euro per maand", "ja"]
    assert any(m["kind"] == "reminder" and m["status"] == "sent" for m in document["messages"])
    snapshot = document["arrears_snapshots"][0]
    assert snapshot["source"]["list"] == "d1.csv"
    _every_time_has_a_zone(document)


def _every_time_has_a_zone(value: Any, key: str = "") -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _every_time_has_a_zone(v, k)
    elif isinstance(value, list):
        for v in value:
            _every_time_has_a_zone(v, key)
    elif key.endswith("_at") and isinstance(value, str):
        assert datetime.fromisoformat(value).tzinfo is not None, key


async def test_an_unknown_reference_is_none(runtime: Runtime, clock: ManualClock) -> None:
    async with runtime.sessions() as session:
        found = await export_tenant(
            session, "T9", generated_at=clock.now(), generated_by="test", controller=None
        )
    assert found is None


def _run(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
    env["ARREARS_DATABASE_URL"] = url
    # umask 0: the file's 0600 must not lean on the operator's umask.
    return subprocess.run(
        [COMMAND, "export-tenant", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        umask=0,
    )


async def test_the_command_prints_writes_privately_and_refuses(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    await runtime.import_data(
        arrears_csv(row("T1"), row("T2", name="Bob", phone="06-11111111")), "d1.csv"
    )
    printed = _run(database_url, "T1")
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    assert document["tenant"]["name"] == "Anna de Vries"
    assert document["about"]["controller"] == "Woningcorporatie"
    assert "exported tenant data" in printed.stderr and "contact_points=" in printed.stderr
    for personal in ("Anna", "Vries", "12345678", "T1", "Meppel"):
        assert personal not in printed.stderr

    unknown = _run(database_url, "NOPE")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.count("\n") == 1 and "Traceback" not in unknown.stderr
    assert "no tenant has that reference" in unknown.stderr

    target = tmp_path / "anna.json"
    written = _run(database_url, "T1", "--output", str(target))
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text("utf-8"))["tenant"]["external_ref"] == "T1"

    target.write_text("kept")
    target.chmod(0o644)
    refused = _run(database_url, "T2", "--output", str(target))
    assert refused.returncode == 1 and "exists" in refused.stderr
    assert target.read_text() == "kept"
    forced = _run(database_url, "T2", "--output", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text("utf-8"))["tenant"]["name"] == "Bob"
