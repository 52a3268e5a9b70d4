"""The consultants' pages and their JSON twins, behind a login: the table of routes.

The handlers live by area (``*_routes.py``), the login and CSRF guard in ``guards.py``.
"""

from __future__ import annotations

from aiohttp import web
from itsdangerous import URLSafeSerializer

from workplace import sessions
from workplace.case_routes import case_action, case_api, case_page, claim, release
from workplace.dossier_routes import dossier_page, feedback, handover, record_page
from workplace.guards import guard, security_headers, team_scope
from workplace.host import HOST, Host
from workplace.login_routes import language, login_page, login_submit, logout
from workplace.queue_routes import queue_api, queue_page
from workplace.report_routes import reports_api, reports_page
from workplace.request_helpers import PROBLEMS, SIGNER
from workplace.signal_routes import signals_batch, signals_export, signals_page
from workplace.user_routes import users_add, users_change, users_page

# Ids are 32-bit integers in PostgreSQL: nine digits always fit, so a longer one is a 404
# here rather than a database error.
_CASE = "/cases/{case_id:[0-9]{1,9}}"


def add_workplace_routes(app: web.Application, host: Host, secret: str) -> None:
    """Mount the workplace on ``app``: ``host`` is what it reads from the root (sessions,
    clocks, policy, settings), ``secret`` signs its cookies and carried problems."""
    app[HOST] = host
    app[SIGNER] = sessions.SessionSigner(secret)
    app[PROBLEMS] = URLSafeSerializer(secret, salt="arrears-bot problem")
    app.middlewares.append(security_headers)
    app.middlewares.append(guard)
    app.middlewares.append(team_scope)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_post("/language", language)
    app.router.add_get("/queue", queue_page)
    app.router.add_get("/api/queue", queue_api)
    app.router.add_get(_CASE, case_page)
    app.router.add_get(f"/api{_CASE}", case_api)
    app.router.add_post(f"{_CASE}/claim", claim)
    app.router.add_post(f"{_CASE}/release", release)
    app.router.add_post(
        f"{_CASE}/{{action:reply|contact|objection|plan|pause|resolve}}", case_action
    )
    app.router.add_post(f"{_CASE}/handover", handover)
    app.router.add_post(f"{_CASE}/handovers/{{handover_id:[0-9]{{1,9}}}}/feedback", feedback)
    app.router.add_get(f"{_CASE}/dossier", dossier_page)
    app.router.add_get(f"/api{_CASE}/dossier", dossier_page)
    app.router.add_get(f"{_CASE}/record", record_page)
    app.router.add_get("/signals", signals_page)
    app.router.add_post("/signals", signals_export)
    app.router.add_get("/signals/batches/{batch_id:[0-9]{1,9}}.{format:json|csv}", signals_batch)
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/api/reports", reports_api)
    app.router.add_get("/users", users_page)
    app.router.add_post("/users", users_add)
    app.router.add_post("/users/{user_id:[0-9]{1,9}}", users_change)
