"""The `arrears-bot` command: the typer app and its small commands. The long-running
processes are in bot/cli_serve.py, accounts in bot/cli_users.py, and what they share in
bot/cli_common.py."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import DataError

from bot.cli_common import PlainUsage, load_settings, serve_app
from bot.cli_progress import import_bar
from bot.cli_serve import serve, worker
from bot.cli_users import users_app
from bot.runtime import Runtime
from bot.startup_errors import explain
from handlers.arrears_file import ArrearsFileError
from messaging.render import format_euros
from rules.intents import parse_reply
from storage.db import create_engine
from storage.migrate import upgrade
from storage.tenant_export import export_tenant as tenant_document
from workplace.labels import code_labels
from workplace.queries import QueueFilter
from workplace.queries import queue as workplace_queue

log = logging.getLogger(__name__)

# Plain help text: Rich markup would eat "[teams]" and give every flag a "<bool>".
app = typer.Typer(
    help="arrears-bot: reach tenants in rent arrears early and kindly.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
# In the order `--help` lists them, as before the commands had modules of their own.
app.command()(serve)
app.command()(worker)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@app.command("import", cls=PlainUsage)
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import the corporation's arrears list (CSV). A bad file changes nothing."""
    settings = load_settings()

    async def main() -> int:
        runtime = await Runtime.start(settings)
        try:
            with import_bar(file.stat().st_size) as progress:
                summary = await runtime.import_file(file, progress)
        except ArrearsFileError as error:
            what = "these lines" if any(problem.line for problem in error.errors) else "this"
            typer.echo(f"{file}: rejected, nothing was changed. Fix {what}:", err=True)
            for problem in error.errors:
                typer.echo(f"  {problem}", err=True)
            return 1
        except DataError:
            # The parser should have named the line; should a value slip past it, the
            # transaction is undone all the same and the operator still needs a sentence.
            # Not the database's own words: they can quote the value, and stderr often ends
            # up in a log.
            typer.echo(
                f"{file}: the database refused a value in it; nothing was changed. "
                "Check lengths and amounts, or send the file to your administrator.",
                err=True,
            )
            return 1
        finally:
            await runtime.close()
        if summary.already_imported:
            typer.echo(f"{file}: already imported (batch {summary.batch_id}); nothing changed.")
            return 0
        typer.echo(
            f"{file}: {_count(summary.rows, 'row')}, "
            f"{_count(summary.tenants_created, 'new tenant')}, "
            f"{_count(summary.opened, 'case')} opened, {summary.updated} updated, "
            f"{summary.closed} closed."
        )
        return 0

    raise typer.Exit(asyncio.run(main()))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Bring the database schema up to date."""
    settings = load_settings()

    async def main() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(main())
    typer.echo("database is up to date")


@app.command()
def queue() -> None:
    """List the consultant queue: most urgent first."""
    settings = load_settings()

    async def main() -> None:
        runtime = await Runtime.start(settings)
        try:
            async with runtime.sessions() as session:
                entries = await workplace_queue(
                    session,
                    None,
                    QueueFilter(),
                    now=runtime.clock.now(),
                    target_hours=runtime.policy.escalation.response_target_hours,
                    limit=500,
                )
        finally:
            await runtime.close()
        if not entries:
            typer.echo("The queue is empty.")
            return
        typer.echo(
            f"{'case':>6}  {'prio':>4}  {'reason':<24} {'waiting since':<17} "
            f"{'balance':>12}  tenant"
        )
        tz = runtime.policy.tz  # a person reads it: the corporation's clock, not UTC
        reason = code_labels("en")
        for entry in entries:
            typer.echo(
                f"{entry.case_id:>6}  {entry.priority:>4}  {reason(entry.reason):<24} "
                f"{entry.escalated_at.astimezone(tz):%Y-%m-%d %H:%M} "
                f"{format_euros(entry.balance_cents):>12}  "
                f"{entry.tenant_ref} {entry.tenant_name}"
            )

    asyncio.run(main())


@app.command()
def parse(
    today: Annotated[str | None, typer.Option(help="Resolve relative dates (YYYY-MM-DD).")] = None,
) -> None:
    """Understand tenant messages: one per line on stdin, one JSON object per line out."""
    day = date.fromisoformat(today) if today else date.today()  # noqa: DTZ011
    # Bytes, not text: a line that is not valid UTF-8 is still answered, never a crash.
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        reply = parse_reply(line, day)
        data = reply.as_json()
        typer.echo(
            json.dumps(
                {key: data[key] for key in ("intent", "amount_cents", "months", "pay_date")},
                ensure_ascii=False,
            )
        )


@app.command()
def demo(
    headless: Annotated[bool, typer.Option(help="Run the whole period without a server.")] = False,
    days: Annotated[int, typer.Option(min=1, max=365)] = 30,
    seed: Annotated[int, typer.Option()] = 7,
    start: Annotated[str, typer.Option(help="First simulated day.")] = "2026-12-01",
    day_seconds: Annotated[float | None, typer.Option(help="Real seconds per day (live).")] = None,
    database: Annotated[Path, typer.Option(help="SQLite file, recreated.")] = Path(
        "arrears-demo.db"
    ),
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default ARREARS_PORT, 8080).")
    ] = None,
) -> None:
    """Simulated tenants on the sandbox, a fast clock, the web page on 127.0.0.1."""
    from bot.demo_run import DemoRun

    base = load_settings()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = base.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{database}",
            "sandbox": True,
            "policy_file": None,
            # Leases run on the policy's clock, here a fast one: a day in ten seconds. One
            # process sends everything, so a month-long lease loses nothing and keeps a
            # claim from lapsing between a send and its record.
            "send_lease_seconds": 30 * 86400,
            # It prints a login and lets anyone write as a tenant: this machine only.
            "host": base.host if base.host in ("127.0.0.1", "localhost", "::1") else "127.0.0.1",
            "port": port or base.port,
        }
    )
    if settings.host != base.host:
        typer.echo(f"The demo listens on this machine only, not on {base.host}.", err=True)
    if not headless:
        # Said before the login is printed, not after it (the bind itself comes later).
        with socket.create_server((settings.host, settings.port)):
            pass
    run = DemoRun(settings, date.fromisoformat(start), days, seed, database, typer.echo)
    per_day = day_seconds or settings.demo_day_seconds
    asyncio.run(run.headless() if headless else run.live(per_day, serve_app))


@app.command("export-tenant", cls=PlainUsage)
def export_tenant(
    ref: Annotated[str, typer.Argument(help="The tenant's reference in the arrears list.")],
    output: Annotated[
        Path | None, typer.Option(help="Write to this file (mode 0600) instead of stdout.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace the --output file if it exists.")] = False,
) -> None:
    """Everything we hold on one tenant as JSON: a request to see one's data (AVG art. 15)."""
    if output is not None and output.exists() and not force:
        # Said before anything is read: an old export is not replaced by accident.
        typer.echo(f"{output}: exists; nothing was written (--force replaces it).", err=True)
        raise typer.Exit(1)
    settings = load_settings()

    async def main() -> dict[str, object] | None:
        runtime = await Runtime.start(settings)
        try:
            async with runtime.sessions() as session:
                return await tenant_document(
                    session,
                    ref,
                    generated_at=runtime.wall_clock.now(),
                    generated_by="arrears-bot export-tenant (command line)",
                    controller=settings.corporation_name.strip() or None,
                )
        finally:
            await runtime.close()

    document = asyncio.run(main())
    if document is None:
        # Not the reference itself: stderr often ends up in a log.
        typer.echo("export-tenant: no tenant has that reference; nothing was written.", err=True)
        raise typer.Exit(1)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        _write_private(output, text, force)
    about = document["about"]
    counts = about["counts"] if isinstance(about, dict) else {}
    # Counts only: nothing that says who the tenant is.
    log.info("exported tenant data: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))


def _write_private(path: Path, text: str, force: bool) -> None:
    """Only the owner may read the file (0600, whatever the umask); created anew, so an
    existing file's wider mode, or a link planted at the name, is never written through."""
    if force:
        path.unlink(missing_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        typer.echo(f"{path}: exists; nothing was written (--force replaces it).", err=True)
        raise typer.Exit(1) from None
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)
    typer.echo(f"{path}: written.")


def main() -> None:
    try:
        app(standalone_mode=True)
    except Exception as error:
        typer.echo(f"arrears-bot: {explain(error)}", err=True)
        sys.exit(1)
