"""What the `arrears-bot` command prints on a new database, as an operator runs it: the answer,
in words that count right, without Alembic's migration lines or a warning about sending from
a command that sends nothing. Real processes, since logging is set up once per process."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import app
from bot.logs import quiet_libraries
from tests.factories import arrears_csv, row

COMMAND = str(Path(sys.executable).parent / "arrears-bot")
SILENT = "no channel is on"


def today() -> str:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).strftime("%d-%m-%Y")


def environment(database: Path, **more: str) -> dict[str, str]:
    """The operator's shell: no settings but the database (the log at its INFO default)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")},
        "ARREARS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        **more,
    }


def run(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [COMMAND, *arguments], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done


def test_import_and_queue_on_a_new_database_say_only_their_answer(tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_bytes(arrears_csv(row("T1", as_of=today())))
    env = environment(tmp_path / "new.db")
    imported = run(env, "import", str(one))  # the first command migrates the database
    assert f"{one}: 1 row, 1 new tenant, 1 case opened, 0 updated, 0 closed." in imported.stdout
    listed = run(env, "queue")
    assert listed.stdout == "The queue is empty.\n"
    for done in (imported, listed):
        assert "alembic" not in done.stdout + done.stderr
        assert "channels on" not in done.stderr  # a listing or an import sends nothing
    assert SILENT not in listed.stderr


def test_a_worker_without_channels_still_warns(tmp_path: Path) -> None:
    """The warning moved to the commands that send; it must still reach their operator."""
    worker = subprocess.Popen(
        [COMMAND, "worker"],
        env=environment(tmp_path / "new.db"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # A worker that never says it ends its stderr only when killed: a deadline, not a hang.
    deadline = threading.Timer(60, worker.kill)
    deadline.start()
    try:
        assert worker.stderr is not None
        for line in worker.stderr:  # each line as it comes; the warning comes at the start
            if SILENT in line:
                break
        else:
            pytest.fail("the worker never said that no channel is on")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        deadline.cancel()
        if worker.poll() is None:
            worker.kill()
        worker.wait()


@pytest.fixture
def root_level() -> Iterator[None]:
    root, alembic = logging.getLogger(), logging.getLogger("alembic")
    before = root.level, alembic.level
    yield
    root.setLevel(before[0])
    alembic.setLevel(before[1])


@pytest.mark.usefixtures("root_level")
@pytest.mark.parametrize(
    ("level", "steps_shown"),
    [
        (logging.DEBUG, True),  # whoever looks into a start sees every migration step
        (logging.INFO, False),
        (logging.WARNING, False),
    ],
)
def test_migration_steps_show_only_when_the_log_is_at_debug(level: int, steps_shown: bool) -> None:
    logging.getLogger().setLevel(level)
    quiet_libraries()
    migration = logging.getLogger("alembic.runtime.migration")
    assert migration.isEnabledFor(logging.INFO) == steps_shown
    assert migration.isEnabledFor(logging.WARNING)  # a migration's trouble is always told


def test_every_count_in_an_import_summary_is_grammatical(db: Path, tmp_path: Path) -> None:
    two = tmp_path / "two.csv"
    two.write_bytes(
        arrears_csv(row("T1", as_of=today()), row("T2", phone="06-11111111", as_of=today()))
    )
    result = CliRunner().invoke(app, ["import", str(two)])
    assert result.exit_code == 0, result.output
    assert "2 rows, 2 new tenants, 2 cases opened, 0 updated, 0 closed." in result.output


def _commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command's words, groups included: `()`, `("import",)`, `("users", "add")`…"""
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_no_usage_line_shows_a_placeholder_in_braces() -> None:
    runner = CliRunner()
    paths = list(_commands(typer.main.get_command(app)))
    assert ("import",) in paths and ("users", "add") in paths
    for path in paths:
        page = runner.invoke(app, [*path, "--help"])
        assert page.exit_code == 0, path
        assert "{" not in page.output and "}" not in page.output, page.output
    usage = runner.invoke(app, ["import", "--help"], prog_name="arrears-bot").output.splitlines()[0]
    assert usage == "Usage: arrears-bot import [OPTIONS] FILE"


def test_the_demo_on_a_busy_port_says_so_before_any_login(tmp_path: Path) -> None:
    """Found from outside: the demo printed its login and "Demo running", then died on a
    port already taken. Now the port comes first; `--port` picks another."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [COMMAND, "demo", "--port", str(port), "--database", str(tmp_path / "d.db")],
            env=environment(tmp_path / "unused.db"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "port is in use" in done.stderr
    assert "Demo running" not in done.stdout and "password" not in done.stdout.lower()
