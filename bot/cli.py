"""The `arrears-bot` command."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import DataError
from sqlalchemy.ext.asyncio import AsyncSession
from typer.core import TyperCommand

from bot.logs import ACCESS_LOG_FORMAT, configure_logging
from bot.metrics import Metrics, serve_metrics
from bot.runtime import Runtime
from bot.settings import Settings
from bot.startup_errors import explain
from bot.web import build_app
from bot.workers import Workers
from handlers.arrears_file import ArrearsFileError
from messaging.channels.telegram import TelegramChannel
from messaging.render import format_euros
from messaging.telegram_bot import Polling, register_webhook
from rules.intents import parse_reply
from storage.db import create_engine
from storage.migrate import upgrade
from workplace.accounts import AccountError, Role, add_user, check_new_user, set_password
from workplace.queries import QueueFilter
from workplace.queries import queue as workplace_queue

# Plain help text: Rich markup would eat "[teams]" and give every flag a "<bool>".
app = typer.Typer(
    help="arrears-bot: reach tenants in rent arrears early and kindly.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(db_app, name="db")
users_app = typer.Typer(
    help="Consultants and coordinators.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(users_app, name="users")


class PlainUsage(TyperCommand):
    """A command whose usage line names its arguments as other tools do (`FILE`), where
    Typer writes a required one in braces (`{file}`), which reads as a literal."""

    # Any: the base class types it with Typer's vendored, private copy of click.
    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [re.sub(r"\{(\w+)\}", lambda found: found.group(1).upper(), p) for p in pieces]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:
        # Name the setting and the rule, never the value: values include secrets.
        for problem in error.errors():
            where = "_".join(str(part) for part in problem["loc"]).upper()
            name = f"ARREARS_{where}: " if where else ""
            typer.echo(f"setting {name}{problem['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


def _stop_signal() -> asyncio.Event:
    """Set on SIGINT or SIGTERM; installed before any work starts, so a stop always ends
    the work gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve_app(
    application: web.Application, host: str, port: int, stop: asyncio.Event | None = None
) -> None:
    stop = stop or _stop_signal()
    runner = web.AppRunner(application, access_log_format=ACCESS_LOG_FORMAT)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    print(f"arrears-bot listening on http://{host}:{port}/", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _telegram_polling(runtime: Runtime) -> Polling | None:
    telegram = runtime.channels.get("telegram")
    if isinstance(telegram, TelegramChannel) and runtime.settings.telegram_mode == "polling":
        return Polling(runtime, telegram.bot)
    return None


async def _connect_telegram(runtime: Runtime, polling: Polling | None) -> None:
    settings = runtime.settings
    telegram = runtime.channels.get("telegram")
    if polling is not None:
        await polling.start()
    elif isinstance(telegram, TelegramChannel):
        if not settings.public_base_url or settings.telegram_webhook_secret is None:
            raise typer.BadParameter(
                "Telegram webhook mode needs ARREARS_PUBLIC_BASE_URL and "
                "ARREARS_TELEGRAM_WEBHOOK_SECRET (or set ARREARS_TELEGRAM_MODE=polling)"
            )
        await register_webhook(
            telegram.bot,
            settings.public_base_url,
            settings.telegram_webhook_secret.get_secret_value(),
        )


@app.command()
def serve() -> None:
    """Run the web app (webhooks, sandbox, /healthz) and the scheduler, on the real clock."""
    settings = _settings()

    async def main() -> None:
        stop = _stop_signal()
        metrics = Metrics()
        runtime = await Runtime.start(settings, observer=metrics)
        runtime.warn_when_silent()
        workers = Workers(runtime)
        application = build_app(runtime, metrics)
        polling = _telegram_polling(runtime)

        async def started(_: web.Application) -> None:
            await _connect_telegram(runtime, polling)
            workers.start()

        async def stopped(_: web.Application) -> None:
            if polling is not None:
                await polling.stop()
            await workers.stop()
            await runtime.close()

        application.on_startup.append(started)
        application.on_cleanup.append(stopped)
        if settings.sandbox and settings.host not in ("127.0.0.1", "localhost", "::1"):
            logging.warning(
                "sandbox is on while listening on %s; set ARREARS_SANDBOX=false in production",
                settings.host,
            )
        await _serve_app(application, settings.host, settings.port, stop)

    asyncio.run(main())


@app.command()
def worker(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's /metrics on this port.")
    ] = None,
) -> None:
    """Run tick, dispatch and the inbox only: start more of these against one PostgreSQL to
    scale out. SIGTERM lets the sends in flight finish first."""
    settings = _settings()

    async def main() -> None:
        stop = _stop_signal()
        metrics = Metrics()
        runtime = await Runtime.start(settings, observer=metrics)
        runtime.warn_when_silent()
        workers = Workers(runtime)
        workers.start()
        runner = None
        if metrics_port is not None:
            runner = await serve_metrics(runtime, metrics, settings.host, metrics_port)
        try:
            await stop.wait()
        finally:
            await workers.stop()
            if runner is not None:
                await runner.cleanup()
            await runtime.close()

    asyncio.run(main())


@app.command("import", cls=PlainUsage)
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import the corporation's arrears list (CSV). A bad file changes nothing."""
    settings = _settings()

    async def main() -> int:
        data = file.read_bytes()
        runtime = await Runtime.start(settings)
        try:
            summary = await runtime.import_data(data, file.name)
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
    settings = _settings()

    async def main() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(main())
    typer.echo("database is up to date")


def _account_change(
    work: Callable[[AsyncSession, Runtime], Awaitable[object]], refused: str
) -> None:
    """Run one change to the accounts in a transaction; a refused change exits 1, saying
    why."""
    settings = _settings()

    async def main() -> None:
        runtime = await Runtime.start(settings)
        try:
            async with runtime.sessions() as session, session.begin():
                await work(session, runtime)
        finally:
            await runtime.close()

    try:
        asyncio.run(main())
    except AccountError as problem:
        typer.echo(f"{refused}: {problem}", err=True)
        raise typer.Exit(1) from None


@users_app.command("add", cls=PlainUsage)
def users_add(
    name: Annotated[str, typer.Argument(help="Login name: letters, digits and dots.")],
    role: Annotated[Role, typer.Option(help="coordinators also manage users")] = Role.CONSULTANT,
    display_name: Annotated[str | None, typer.Option(help="As colleagues see it.")] = None,
    team: Annotated[
        str | None, typer.Option(help="A team from the policy's [teams]: its cases only.")
    ] = None,
) -> None:
    """Add a consultant or coordinator; the password is asked twice and never shown."""
    # A name that is taken or not allowed is told before anyone types a password twice.
    _account_change(
        lambda session, runtime: check_new_user(session, name, team, runtime.policy.teams.keys()),
        "Not added",
    )
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _account_change(
        lambda session, runtime: add_user(
            session,
            name,
            password,
            role=role,
            now=runtime.wall_clock.now(),
            display_name=display_name,
            team=team,
            known_teams=runtime.policy.teams.keys(),
        ),
        "Not added",
    )
    typer.echo(f"Added {role.value} {name.strip().lower()}.")


@users_app.command("password", cls=PlainUsage)
def users_password(
    name: Annotated[str, typer.Argument(help="The login name.")],
) -> None:
    """Give an account a new password (asked twice, never shown); its logins end."""
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    _account_change(lambda session, _: set_password(session, name, password), "Not changed")
    typer.echo(f"New password set for {name.strip().lower()}; their logins have ended.")


@app.command()
def queue() -> None:
    """List the consultant queue: most urgent first."""
    settings = _settings()

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
            f"{'case':>6}  {'prio':>4}  {'reason':<14} {'waiting since':<17} "
            f"{'balance':>12}  tenant"
        )
        tz = runtime.policy.tz  # a person reads it: the corporation's clock, not UTC
        for entry in entries:
            typer.echo(
                f"{entry.case_id:>6}  {entry.priority:>4}  {entry.reason:<14} "
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
) -> None:
    """Simulated tenants on the sandbox, a fast clock, the web page on 127.0.0.1."""
    from bot.demo_run import DemoRun

    base = _settings()
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
        }
    )
    if settings.host != base.host:
        typer.echo(f"The demo listens on this machine only, not on {base.host}.", err=True)
    run = DemoRun(settings, date.fromisoformat(start), days, seed, database, typer.echo)
    per_day = day_seconds or settings.demo_day_seconds
    asyncio.run(run.headless() if headless else run.live(per_day, _serve_app))


def main() -> None:
    try:
        app(standalone_mode=True)
    except Exception as error:
        typer.echo(f"arrears-bot: {explain(error)}", err=True)
        sys.exit(1)
