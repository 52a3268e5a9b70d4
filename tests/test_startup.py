"""A command that cannot start says why in one line: no traceback, no secret, exit 1 (2 for
a setting that fails its own rule). Real processes, as an operator starts them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

COMMAND = str(Path(sys.executable).parent / "arrears-bot")


def run(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")},
        "ARREARS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'start.db'}",
        **env,
    }
    return subprocess.run(
        [COMMAND, *args],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (
            ["db", "upgrade"],
            {"ARREARS_DATABASE_URL": "postgresql+asyncpg://arrears:hunter2-secret@127.0.0.1:1/x"},
            "the database cannot be reached",
        ),
        (["serve"], {"ARREARS_POLICY_FILE": "/no/such/policy.toml"}, "does not exist"),
        (
            ["serve"],
            {"ARREARS_TELEGRAM_BOT_TOKEN": "123:hunter2-secret", "ARREARS_PORT": "0"},
            "ARREARS_TELEGRAM_WEBHOOK_SECRET is required",
        ),
    ],
)
def test_a_start_that_cannot_go_on_says_why_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    done = run(tmp_path, args, **env)
    assert done.returncode == 1, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "hunter2" not in done.stderr + done.stdout


def test_a_port_in_use_is_named_and_nothing_claims_to_listen(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(tmp_path, ["serve"], ARREARS_PORT=str(port))
    assert done.returncode == 1
    assert "the port is in use" in done.stderr and "Traceback" not in done.stderr
    assert "listening" not in done.stdout


def test_a_database_url_we_cannot_speak_is_a_setting_error(tmp_path: Path) -> None:
    url = "mysql://arrears:hunter2-secret@db.internal/arrears"
    done = run(tmp_path, ["db", "upgrade"], ARREARS_DATABASE_URL=url)
    assert done.returncode == 2
    assert "ARREARS_DATABASE_URL: use sqlite+aiosqlite" in done.stderr
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr


def test_the_demo_stays_on_this_machine(tmp_path: Path) -> None:
    done = run(tmp_path, ["demo", "--headless", "--days", "1"], ARREARS_HOST="0.0.0.0")
    assert done.returncode == 0, done.stderr
    assert "The demo listens on this machine only, not on 0.0.0.0." in done.stderr
