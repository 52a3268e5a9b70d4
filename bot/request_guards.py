"""What every request passes before a page sees it: input a page cannot read is a clear 400,
and an error nobody foresaw is a plain 500 whose log line names the place, not the values."""

from __future__ import annotations

import logging
import re

from aiohttp import http_exceptions, web
from aiohttp.typedefs import Handler

from storage.db import describe

log = logging.getLogger(__name__)

# NUL (which PostgreSQL cannot store), other control characters, and the lone surrogates
# that undecodable bytes become: no form field or query value of ours needs them.
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LONGEST_VALUE = 20_000  # the longest thing a consultant types is a note of a few pages
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _unreadable(value: str) -> bool:
    return len(value) > _LONGEST_VALUE or _UNREADABLE.search(value) is not None


@web.middleware
async def unexpected_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except web.RequestPayloadError:
        # A body that cannot be read: compressed wrongly, cut off, an unknown encoding.
        return web.Response(status=400, text="The request's body could not be read.")
    except Exception as error:
        # aiohttp would log the traceback with the error's message, which can quote what a
        # tenant wrote or a row of the database; the kind and the place are enough to find it.
        resource = request.match_info.route.resource
        where = resource.canonical if resource is not None else "unknown route"
        log.error("%s %s failed: %s", request.method, where, describe(error))
        return web.Response(
            status=500, text="Something went wrong on our side. It was logged; try again later."
        )


@web.middleware
async def readable_input(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pages and forms (not the providers' webhooks, which answer in their own terms)."""
    if request.path.startswith("/webhooks/"):
        return await handler(request)
    if any(_unreadable(value) for value in request.query.values()):
        raise web.HTTPBadRequest(text="This address contains characters we cannot read.")
    if request.method == "POST" and request.content_type in _FORM_TYPES:
        try:
            # Read once here; the page's own request.post() gets the same, cached.
            form = await request.post()
        # Not UTF-8, an unknown charset, a broken multipart body:
        except (ValueError, LookupError, http_exceptions.HttpProcessingError):
            raise web.HTTPBadRequest(
                text="This form arrived unreadable. Go back, reload and try again."
            ) from None
        if any(isinstance(value, str) and _unreadable(value) for value in form.values()):
            raise web.HTTPBadRequest(
                text="This form contains characters we cannot store. Remove them and try again."
            )
    return await handler(request)
