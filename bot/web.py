"""The aiohttp application: health, the consultants' workplace, webhooks and the sandbox."""

from __future__ import annotations

import logging
import secrets

from aiohttp import web, web_response
from sqlalchemy import text

from bot.metrics import Metrics, metrics_handler
from bot.request_guards import readable_input, unexpected_errors
from bot.runtime import Runtime
from bot.settings import SetupError
from messaging.channels.telegram import TelegramChannel
from storage.db import describe
from workplace.web import add_workplace_routes

log = logging.getLogger(__name__)
RUNTIME = web.AppKey("runtime", Runtime)

# No software version for a scanner to look up. aiohttp names itself in the Server header of
# every response, also of the 400s it gives requests it cannot parse before any app (or its
# on_response_prepare) sees them; its module constant is the one place that reaches those.
setattr(web_response, "SERVER_SOFTWARE", "arrears-bot")  # noqa: B010


async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as error:
        log.error("health check: database unreachable: %s", describe(error))
        return web.json_response({"status": "error", "database": "unreachable"}, status=503)
    return web.json_response(
        # Nothing about the set-up: which providers run is the operators' (see the logs).
        {"status": "ok", "database": "ok"}
    )


async def index(request: web.Request) -> web.Response:
    if request.app[RUNTIME].settings.sandbox:
        raise web.HTTPFound("/sandbox")
    raise web.HTTPFound("/queue")


def build_app(runtime: Runtime, metrics: Metrics | None = None) -> web.Application:
    metrics = metrics or Metrics()
    app = web.Application(
        middlewares=[unexpected_errors, metrics.webhook_middleware(), readable_input]
    )
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler(runtime, metrics))
    app.router.add_get("/", index)
    settings = runtime.settings
    if settings.secret_key is None:
        log.warning("ARREARS_SECRET_KEY is not set: a random key for now; a restart logs out")
        secret = secrets.token_hex(32)
    else:
        secret = settings.secret_key.get_secret_value()
    # The workplace reads the runtime at each request: what it needs is workplace.host.Host.
    add_workplace_routes(app, runtime, secret)
    if settings.sandbox:
        from bot.sandbox_web import add_sandbox_routes

        add_sandbox_routes(app)
    if settings.twilio_auth_token:
        from bot.webhook_wiring import RuntimeIntake
        from messaging.twilio_webhooks import add_twilio_routes

        add_twilio_routes(
            app, settings.twilio_auth_token.get_secret_value(), RuntimeIntake(runtime)
        )
    telegram = runtime.channels.get("telegram")
    if isinstance(telegram, TelegramChannel) and settings.telegram_mode == "webhook":
        if settings.telegram_webhook_secret is None:
            raise SetupError(
                "ARREARS_TELEGRAM_WEBHOOK_SECRET is required in webhook mode "
                "(or set ARREARS_TELEGRAM_MODE=polling)"
            )
        from bot.webhook_wiring import RuntimeIntake
        from messaging.telegram_bot import add_telegram_webhook

        add_telegram_webhook(
            app,
            RuntimeIntake(runtime),
            telegram.bot,
            settings.telegram_webhook_secret.get_secret_value(),
        )
    return app
