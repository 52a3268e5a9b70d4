"""HTML pages: one jinja environment with ``base.html`` and the workplace's pages, and the
filters they use. The sandbox (bot/sandbox_web.py) adds its own pages to it."""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from aiohttp import web
from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, select_autoescape

from messaging.render import format_euros


def environment(*more: BaseLoader) -> Environment:
    """The workplace's pages, with ``more`` loaders looked in first: another part's pages
    that extend base.html."""
    env = Environment(
        loader=ChoiceLoader([*more, PackageLoader("workplace", "pages")]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["euros"] = format_euros
    env.filters["local"] = local
    return env


@lru_cache(maxsize=1)
def pages() -> Environment:
    return environment()


def local(moment: datetime | None, tz: tzinfo, fmt: str = "%a %d %b %H:%M") -> str:
    """A stored UTC moment as the corporation's wall-clock time."""
    return moment.astimezone(tz).strftime(fmt) if moment else ""


def respond(env: Environment, name: str, status: int = 200, **context: Any) -> web.Response:
    body = env.get_template(name).render(**context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def render_page(name: str, status: int = 200, **context: Any) -> web.Response:
    return respond(pages(), name, status, **context)
