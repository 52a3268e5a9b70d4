"""What the `arrears-bot` commands share: settings read once with a readable refusal, a
graceful stop on SIGINT/SIGTERM, serving an aiohttp app, and plain usage lines."""

from __future__ import annotations

import asyncio
import re
import signal
from typing import Any

import typer
from aiohttp import web
from pydantic import ValidationError
from typer.core import TyperCommand

from bot.logs import ACCESS_LOG_FORMAT, configure_logging
from bot.settings import Settings


class PlainUsage(TyperCommand):
    """A command whose usage line names its arguments as other tools do (`FILE`), where
    Typer writes a required one in braces (`{file}`), which reads as a literal."""

    # Any: the base class types it with Typer's vendored, private copy of click.
    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [re.sub(r"\{(\w+)\}", lambda found: found.group(1).upper(), p) for p in pieces]


def load_settings() -> Settings:
    """The settings, with logging set up; a bad setting exits 2 naming it, never its value."""
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


def stop_signal() -> asyncio.Event:
    """Set on SIGINT or SIGTERM; installed before any work starts, so a stop always ends
    the work gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_app(
    application: web.Application, host: str, port: int, stop: asyncio.Event | None = None
) -> None:
    """Serve until stopped, then clean the app up (its on_cleanup hooks run)."""
    stop = stop or stop_signal()
    runner = web.AppRunner(application, access_log_format=ACCESS_LOG_FORMAT)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    print(f"arrears-bot listening on http://{host}:{port}/", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
