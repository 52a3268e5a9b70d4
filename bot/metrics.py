"""/metrics in Prometheus' text format, for operators: what was sent and failed, how much
waits in the outbox and the inbox and for how long, how long ticks and sends take, and how
webhooks were answered. Counts and durations only: nothing about any tenant.

Counters are per process (scrape each: ``serve`` on its port, ``worker --metrics-port``);
queue depths come from the database, so every process reports the same totals.

Protection: with ``ARREARS_METRICS_TOKEN`` set, a request needs ``Authorization: Bearer
<token>``. Without it, only a direct request from this machine is served: one that a proxy
forwarded (X-Forwarded-For, Forwarded, X-Real-IP) is refused, since behind a proxy every
request comes from 127.0.0.1.
"""

from __future__ import annotations

import hmac
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from bot.local_requests import from_this_machine
from bot.runtime import Runtime
from storage.queries import queue_depths


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.messages = Counter(
            "arrears_messages",
            "Outbound messages handled by this process, by channel and outcome.",
            ["channel", "outcome"],
            registry=registry,
        )
        self.queued = Counter(
            "arrears_reminders_queued",
            "Reminders the tick of this process queued.",
            registry=registry,
        )
        self.inbound = Counter(
            "arrears_inbound_handled",
            "Tenants' messages this process understood and answered, by whether they "
            "matched a tenant.",
            ["matched"],
            registry=registry,
        )
        self.tick_seconds = Histogram(
            "arrears_tick_seconds", "Duration of one tick.", registry=registry
        )
        self.send_seconds = Histogram(
            "arrears_send_seconds",
            "Duration of one send: provider call and recording its outcome.",
            ["channel"],
            registry=registry,
        )
        self.webhooks = Counter(
            "arrears_webhook_requests",
            "Webhook requests by route and HTTP status.",
            ["route", "status"],
            registry=registry,
        )
        self.webhook_seconds = Histogram(
            "arrears_webhook_seconds",
            "Time to answer a webhook.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.outbox = Gauge(
            "arrears_outbox_messages",
            "Outbound messages waiting, by channel and status (queued, sending).",
            ["channel", "status"],
            registry=registry,
        )
        self.outbox_due = Gauge(
            "arrears_outbox_due_messages",
            "Queued outbound messages whose moment has come.",
            ["channel"],
            registry=registry,
        )
        self.outbox_oldest = Gauge(
            "arrears_outbox_oldest_due_seconds",
            "How long the longest-waiting due outbound message has waited.",
            registry=registry,
        )
        self.inbox = Gauge(
            "arrears_inbox_pending_messages",
            "Tenants' messages stored and not yet handled.",
            registry=registry,
        )
        self.inbox_oldest = Gauge(
            "arrears_inbox_oldest_seconds",
            "Age of the oldest tenant's message not yet handled.",
            registry=registry,
        )
        self.inbox_failed = Gauge(
            "arrears_inbox_failed_messages",
            "Tenants' messages set aside after repeated errors: a person must look.",
            registry=registry,
        )

    # The dispatcher's and the runtime's observer.
    def outcome(self, channel: str, what: str) -> None:
        self.messages.labels(channel, what).inc()

    def sent_in(self, channel: str, seconds: float) -> None:
        self.send_seconds.labels(channel).observe(seconds)

    def ticked(self, seconds: float, queued: int) -> None:
        self.tick_seconds.observe(seconds)
        self.queued.inc(queued)

    def handled(self, matched: bool) -> None:
        self.inbound.labels("yes" if matched else "no").inc()

    async def refresh(self, runtime: Runtime) -> None:
        now = runtime.clock.now()
        async with runtime.sessions() as session:
            depths = await queue_depths(session, now)
        self.outbox.clear()
        for (channel, status), count in depths.outbox.items():
            self.outbox.labels(channel, status).set(count)
        self.outbox_due.clear()
        for channel, count in depths.outbox_due.items():
            self.outbox_due.labels(channel).set(count)
        oldest = depths.outbox_oldest_due
        self.outbox_oldest.set((now - oldest).total_seconds() if oldest else 0)
        self.inbox.set(depths.inbox_pending)
        first = depths.inbox_oldest
        self.inbox_oldest.set(max(0.0, (now - first).total_seconds()) if first else 0)
        self.inbox_failed.set(depths.inbox_failed)

    def webhook_middleware(self) -> Middleware:
        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not request.path.startswith("/webhooks/"):
                return await handler(request)
            # The route's pattern, never the raw path: a caller cannot add series or text.
            resource = request.match_info.route.resource
            route = (
                resource.canonical.removeprefix("/webhooks/")
                if resource is not None and resource.canonical.startswith("/webhooks/")
                else "unknown"
            )
            started = time.perf_counter()
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as refused:
                status = refused.status
                raise
            finally:
                self.webhooks.labels(route, str(status)).inc()
                self.webhook_seconds.labels(route).observe(time.perf_counter() - started)

        return count


def _allowed(request: web.Request, token: str | None) -> bool:
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), token.encode())
    return from_this_machine(request)


def metrics_handler(runtime: Runtime, metrics: Metrics) -> Handler:
    secret = runtime.settings.metrics_token
    token = secret.get_secret_value() if secret else None

    async def handle(request: web.Request) -> web.StreamResponse:
        if not _allowed(request, token):
            raise web.HTTPForbidden(text="metrics need the token (ARREARS_METRICS_TOKEN)")
        await metrics.refresh(runtime)
        return web.Response(
            body=generate_latest(metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    return handle


async def serve_metrics(runtime: Runtime, metrics: Metrics, host: str, port: int) -> web.AppRunner:
    """A worker's own /metrics (the web app serves it for ``serve``)."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(runtime, metrics))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
