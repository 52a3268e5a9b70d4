"""Real databases for every test: SQLite always, PostgreSQL when it is reachable.

The schema is migrated once per run into a template (a SQLite file; a PostgreSQL template
database) and cloned for each test, so no test sees another's data. CI sets
ARREARS_TEST_REQUIRE_POSTGRES=1: then a missing PostgreSQL, or a run in which no PostgreSQL
test ran, fails the session instead of passing quietly.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

from bot.runtime import Runtime
from bot.settings import Settings
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from rules.policy import CHANNELS
from storage.scratch import create_database, drop_database, local_postgres, migrated

pytest_plugins = ["tests.twilio_fixtures"]

REQUIRE_PG = os.environ.get("ARREARS_TEST_REQUIRE_POSTGRES") == "1"
# Tuesday 1 December 2026, 10:00 in Amsterdam: an ordinary working morning.
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


# CI explores the same examples every run, so a landing never hangs on a lucky draw;
# developers' runs keep drawing new ones (and hypothesis remembers what failed).
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

PG_URL = local_postgres(os.environ.get("ARREARS_TEST_POSTGRES_URL"))
if REQUIRE_PG and PG_URL is None:
    raise RuntimeError("ARREARS_TEST_REQUIRE_POSTGRES=1 but no PostgreSQL is reachable")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
_ran_on_postgres = 0


@pytest.fixture(autouse=True)
def _scrub_settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings come from the test, never from the developer's shell or .env file."""
    for name in list(os.environ):
        if name.startswith("ARREARS_") and not name.startswith("ARREARS_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        wanted = BACKENDS
        if metafunc.definition.get_closest_marker("postgresql_only"):
            wanted = [b for b in BACKENDS if b == "postgresql"] or ["postgresql"]
        metafunc.parametrize("backend", wanted)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _ran_on_postgres
    if report.when == "call" and report.passed and "[postgresql" in report.nodeid:
        _ran_on_postgres += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_PG and exitstatus == 0 and _ran_on_postgres == 0:
        session.exitstatus = 1
        print("\nERROR: ARREARS_TEST_REQUIRE_POSTGRES=1 but no PostgreSQL test passed")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if PG_URL is None:
        terminalreporter.write_line(
            "NOTE: PostgreSQL not reachable: database tests ran on SQLite only.", yellow=True
        )
    else:
        terminalreporter.write_line(f"PostgreSQL tests passed: {_ran_on_postgres}")


@dataclass(frozen=True)
class Templates:
    sqlite_file: Path
    pg_template_url: str | None


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    sqlite_file = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(migrated(f"sqlite+aiosqlite:///{sqlite_file}"))
    pg_template_url = None
    if PG_URL:
        pg_template_url = asyncio.run(create_database(PG_URL, "arrears_tpl"))
        asyncio.run(migrated(pg_template_url))
    yield Templates(sqlite_file, pg_template_url)
    if pg_template_url:
        asyncio.run(drop_database(pg_template_url, PG_URL))


@pytest.fixture
async def database_url(backend: str, templates: Templates, tmp_path: Path) -> AsyncIterator[str]:
    """A freshly migrated, empty database of the given backend."""
    if backend == "sqlite":
        target = tmp_path / "test.db"
        shutil.copyfile(templates.sqlite_file, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    assert PG_URL and templates.pg_template_url
    template = make_url(templates.pg_template_url).database
    url = await create_database(PG_URL, "arrears_t", template=template)
    yield url
    await drop_database(url, PG_URL)


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A SQLite file for the `arrears-bot` command run in this test (CliRunner)."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("ARREARS_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("ARREARS_LOG_LEVEL", "WARNING")
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def sandbox() -> SandboxChannel:
    return SandboxChannel()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # A developer's set-up: no provider, the sandbox page on.
    return Settings(database_url=database_url, sandbox=True, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def runtime(
    settings: Settings, clock: ManualClock, sandbox: SandboxChannel
) -> AsyncIterator[Runtime]:
    rt = await Runtime.start(
        settings, clock=clock, channels=dict.fromkeys(CHANNELS, sandbox), migrate=False
    )
    try:
        yield rt
    finally:
        await rt.close()
