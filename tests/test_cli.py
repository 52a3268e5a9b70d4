"""The `arrears-bot` command, run as a user would (SQLite file in a temporary directory)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import Runtime
from bot.settings import Settings
from messaging.channels.base import InboundMessage
from tests.factories import arrears_csv, row

runner = CliRunner()


def today(days: int = 0) -> str:
    """A date as the command reads the clock: today in Amsterdam, plus ``days``."""
    return (datetime.now(ZoneInfo("Europe/Amsterdam")) + timedelta(days=days)).strftime("%d-%m-%Y")


def test_db_upgrade_import_and_queue(db: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    good = tmp_path / "arrears.csv"
    good.write_bytes(
        arrears_csv(
            row("T1", as_of=today()), row("T2", balance="0", phone="06-11111111", as_of=today())
        )
    )
    result = runner.invoke(app, ["import", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 rows, 2 new tenants, 1 case opened, 0 updated, 0 closed" in result.output
    again = runner.invoke(app, ["import", str(good)])
    assert again.exit_code == 0 and "already imported" in again.output
    queue = runner.invoke(app, ["queue"])
    assert queue.exit_code == 0 and "The queue is empty." in queue.output

    async def tenant_asks_for_help() -> None:
        runtime = await Runtime.start(Settings())
        try:
            await runtime.receive(
                InboundMessage("whatsapp", "+31612345678", "hulp", "cli-1", runtime.clock.now())
            )
        finally:
            await runtime.close()

    asyncio.run(tenant_asks_for_help())
    listed = runner.invoke(app, ["queue"])
    assert listed.exit_code == 0
    (line,) = [row for row in listed.output.splitlines() if "T1" in row]
    assert "Asks for help" in line and "Anna de Vries" in line and "€ 650,00" in line


def test_users_add_asks_the_password_twice_and_never_shows_it(db: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    secret = "a long enough password"
    added = runner.invoke(
        app, ["users", "add", "Marieke", "--role", "coordinator"], input=f"{secret}\n{secret}\n"
    )
    assert added.exit_code == 0, added.output
    assert "Added coordinator marieke." in added.output and secret not in added.output
    mismatch = runner.invoke(
        app, ["users", "add", "kees"], input=f"{secret}\nsomething else!!\n{secret}\n{secret}\n"
    )
    assert "do not match" in mismatch.output and mismatch.exit_code == 0
    twice = runner.invoke(app, ["users", "add", "kees"], input=f"{secret}\n{secret}\n")
    assert twice.exit_code == 1 and "already exists" in twice.output
    team = runner.invoke(app, ["users", "add", "joost", "--team", "noord"], input=f"{secret}\n" * 2)
    assert team.exit_code == 1 and "unknown team 'noord'" in team.output
    new = "another long password"
    changed = runner.invoke(app, ["users", "password", "MARIEKE"], input=f"{new}\n{new}\n")
    assert changed.exit_code == 0 and "New password set for marieke" in changed.output
    nobody = runner.invoke(app, ["users", "password", "nobody"], input=f"{new}\n{new}\n")
    assert nobody.exit_code == 1 and "no user nobody" in nobody.output
    short = runner.invoke(app, ["users", "add", "joost"], input="short\nshort\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_a_bad_import_names_each_line_and_exits_nonzero(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        arrears_csv(
            row("T1", as_of=today()),
            row("T2", balance="?", as_of=today()),
            row("T3", phone="1", as_of=today()),
        )
    )
    result = runner.invoke(app, ["import", str(bad)])
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    assert "line 3: balance" in result.output and "line 4: phone" in result.output


def test_parse_writes_one_json_object_per_line() -> None:
    result = runner.invoke(
        app,
        ["parse", "--today", "2026-11-25"],
        input="hulp\nik kan 50 euro per maand\n\nik betaal volgende week\n",
    )
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["intent"] for line in lines] == ["help", "plan", "unknown", "plan"]
    assert lines[1]["amount_cents"] == 5000 and lines[1]["months"] is None
    assert lines[3]["pay_date"] == "2026-12-02"
    assert set(lines[0]) == {"intent", "amount_cents", "months", "pay_date"}


def test_headless_demo_runs_a_month(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--headless", "--days", "30"])
    assert result.exit_code == 0, result.output
    out = result.output
    for stage in ("friendly", "plan offer", "written"):
        assert stage in out
    for code in ("plan_offer", "no_reply", "unknown_reply", "plan_request"):
        assert code not in out  # words, not the database's codes
    counts = {
        label: int(line.split()[-1])
        for line in out.splitlines()
        for label in ("paid (closed)", "No reply", "Asks for help", "in a plan (agreed)")
        if line.strip().startswith(label)
    }
    assert counts["paid (closed)"] > 0 and counts["No reply"] > 0
    assert counts["Asks for help"] > 0 and counts["in a plan (agreed)"] > 0
    assert "Fallbacks to another channel" in out
    assert (tmp_path / "arrears-demo.db").exists()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" ")), min_size=1, max_size=8)
)
def test_parse_answers_every_line_whatever_bytes_it_gets(lines: list[bytes]) -> None:
    result = runner.invoke(app, ["parse", "--today", "2026-11-25"], input=b"\n".join(lines) + b"\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.splitlines()]
    assert len(answers) == len(lines)
    assert all(
        set(answer) == {"intent", "amount_cents", "months", "pay_date"} for answer in answers
    )


def test_parse_survives_invalid_utf8_and_windows_line_ends() -> None:
    result = runner.invoke(app, ["parse"], input=b"hulp\r\n\xff\xfe betaald\r\n")
    assert result.exit_code == 0
    assert [json.loads(line)["intent"] for line in result.output.splitlines()] == ["help", "paid"]


def test_a_sandbox_next_to_a_real_provider_stops_the_start_with_words_not_secrets(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARREARS_SANDBOX", "true")
    monkeypatch.setenv("ARREARS_TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("ARREARS_TWILIO_AUTH_TOKEN", "very-secret-token-0123456789")
    for command in (["serve"], ["worker"], ["db", "upgrade"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "ARREARS_SANDBOX=true is for development only" in result.output
        assert "Traceback" not in result.output and "very-secret" not in result.output
    assert not db.exists()  # stopped before touching anything


def test_help_keeps_brackets_and_shows_no_metavar_for_flags() -> None:
    added = runner.invoke(app, ["users", "add", "--help"])
    assert added.exit_code == 0
    assert "[teams]" in added.output  # not taken for Rich markup
    demo = runner.invoke(app, ["demo", "--help"])
    assert demo.exit_code == 0 and "--headless / --no-headless" in demo.output
    for page in (added.output, demo.output, runner.invoke(app, ["--help"]).output):
        assert "<bool>" not in page


def test_users_add_refuses_a_taken_or_bad_name_before_asking_the_password(db: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    secret = "a long enough password"
    assert runner.invoke(app, ["users", "add", "marieke"], input=f"{secret}\n" * 2).exit_code == 0
    for name, why in (
        ("Marieke", "user marieke already exists"),
        ("kees de boer", "letters and digits"),
        ("k" * 101, "at most 100"),
    ):
        # No input at all: a prompt would find nothing to read and abort instead.
        refused = runner.invoke(app, ["users", "add", name], input="")
        assert refused.exit_code == 1 and why in refused.output, name
        assert "Password" not in refused.output, name
    team = runner.invoke(app, ["users", "add", "joost", "--team", "noord"], input="")
    assert team.exit_code == 1 and "unknown team 'noord'" in team.output
    assert "Password" not in team.output


def test_an_arrears_list_dated_after_tomorrow_is_refused_with_its_line(
    db: Path, tmp_path: Path
) -> None:
    ahead = tmp_path / "ahead.csv"
    ahead.write_bytes(arrears_csv(row("T1", as_of=today(1)), row("T2", as_of=today(5))))
    result = runner.invoke(app, ["import", str(ahead)])
    assert result.exit_code == 1 and "nothing was changed" in result.output
    assert "line 3: as_of:" in result.output and "after today" in result.output
    assert "line 2" not in result.output  # tomorrow's list is fine (made the evening before)
