"""Logs carry ids and counts only, at every level and on both databases: an import, a bad
import, reminders through Twilio (one refused by the provider with the number in its error),
a tenant's reply through the signed webhook and an unknown sender, all at DEBUG, and then the
log is searched for the tenants' names, numbers, addresses and words."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.logs import quiet_libraries
from bot.runtime import Runtime
from bot.web import build_app
from handlers.arrears_file import ArrearsFileError
from rules.clock import ManualClock
from tests.db_helpers import messages
from tests.factories import arrears_csv, row
from tests.fakes.twilio import FakeTwilio, signature
from tests.twilio_fixtures import PUBLIC, inbound_form

SECRETS = [
    "Anna de Vries",
    "Bram Bakker",
    "Cor Visser",
    "+31612345678",
    "0612345678",
    "612345678",
    "+31623456789",
    "623456789",
    "+31687654321",
    "687654321",
    "anna@example.nl",
    "7941 AB",
    "ik kan 60 euro per maand",
    "wie is dit eigenlijk",
    "De huur is nog niet",  # the reminder's words
]


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    loud = ["sqlalchemy", "aiosqlite", "twilio", "apscheduler"]
    before = {name: logging.getLogger(name).level for name in loud}
    caplog.set_level(logging.DEBUG)
    quiet_libraries()  # what every command does when it sets up logging
    yield caplog
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in [*caplog.get_records("setup"), *caplog.records]:
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)


async def test_an_import_and_a_conversation_at_debug_log_no_personal_data(
    debug_log: pytest.LogCaptureFixture,  # first: on before the service starts
    twilio_runtime: Runtime,
    twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    runtime = twilio_runtime
    runtime.warn_when_silent()  # as serve and worker do at start
    await runtime.import_data(
        arrears_csv(
            row("T1", email="anna@example.nl"),
            row("T2", name="Cor Visser", phone="06-23456789"),
        ),
        "d1.csv",
    )
    with pytest.raises(ArrearsFileError):
        await runtime.import_data(arrears_csv(row("T3", name="Bram Bakker", balance="veel")), "x")
    # The provider refuses Cor's number, quoting it in its error (as Twilio does).
    twilio.failures["+31623456789"] = (400, 21211, "Invalid 'To' Phone Number: +31623456789")
    twilio.failures["whatsapp:+31623456789"] = twilio.failures["+31623456789"]
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as client:
        path = "/webhooks/twilio/sms"
        for form in (
            inbound_form("ik kan 60 euro per maand", "SM" + "a" * 32),
            inbound_form("wie is dit eigenlijk", "SM" + "b" * 32, sender="+31687654321"),
        ):
            headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form)}
            assert (await client.post(path, data=form, headers=headers)).status == 200
        await runtime.handle_inbox()
        await runtime.dispatch()
    assert len(await messages(runtime, direction="in")) == 2
    assert [m.status for m in await messages(runtime, direction="out", kind="reply")] == [
        "sent",
        "sent",
    ]
    text = logged(debug_log)
    assert "channels on:" in text  # the log was on, and ours spoke
    found = [secret for secret in SECRETS if secret in text]
    assert found == [], f"personal data in the log: {found}"


def test_the_command_at_debug_logs_no_personal_data(tmp_path: Path) -> None:
    """The real process, as an operator runs it with ARREARS_LOG_LEVEL=DEBUG."""
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).strftime("%d-%m-%Y")  # a real process
    good.write_bytes(arrears_csv(row("T1", email="anna@example.nl", as_of=today)))
    bad.write_bytes(arrears_csv(row("T3", name="Bram Bakker", balance="veel", as_of=today)))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")},
        "ARREARS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'debug.db'}",
        "ARREARS_LOG_LEVEL": "DEBUG",
    }
    command = [str(Path(sys.executable).parent / "arrears-bot")]
    outputs = []
    for file, code in ((good, 0), (bad, 1)):
        done = subprocess.run(
            [*command, "import", str(file)], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == code, done.stderr
        outputs.append(done.stderr)
    log = "\n".join(outputs)
    assert " DEBUG " in log or " INFO " in log  # the log was on
    found = [s for s in ("Anna de Vries", "612345678", "anna@example.nl") if s in log]
    assert found == [], f"personal data in the log: {found}"
