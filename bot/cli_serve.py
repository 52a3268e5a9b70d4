"""`arrears-bot serve` and `arrears-bot worker`: the long-running processes, started and
stopped in order (the runtime first up and last down)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer
from aiohttp import web

from bot.cli_common import load_settings, serve_app, stop_signal
from bot.metrics import Metrics, serve_metrics
from bot.runtime import Runtime
from bot.web import build_app
from bot.webhook_wiring import RuntimeIntake
from bot.workers import Workers
from messaging.channels.telegram import TelegramChannel
from messaging.telegram_bot import Polling, register_webhook


def _telegram_polling(runtime: Runtime) -> Polling | None:
    telegram = runtime.channels.get("telegram")
    if isinstance(telegram, TelegramChannel) and runtime.settings.telegram_mode == "polling":
        return Polling(RuntimeIntake(runtime), telegram.bot)
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


def serve() -> None:
    """Run the web app (webhooks, sandbox, /healthz) and the scheduler, on the real clock."""
    settings = load_settings()

    async def main() -> None:
        stop = stop_signal()
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
        await serve_app(application, settings.host, settings.port, stop)

    asyncio.run(main())


def worker(
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's /metrics on this port.")
    ] = None,
) -> None:
    """Run tick, dispatch and the inbox only: start more of these against one PostgreSQL to
    scale out. SIGTERM lets the sends in flight finish first."""
    settings = load_settings()

    async def main() -> None:
        stop = stop_signal()
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
