"""The hottest request, answered before the framework: a view already in process memory.

A cached ``GET /api/events/{token}`` is a dictionary lookup, yet through FastAPI it cost
about five times the bare endpoint's CPU (route matching over every route, parameter
validation, and three middleware layers, one of them a task per request), so the API's
highest cached-read rate was 0.41 to 0.51 times the bare endpoint's. This ASGI middleware
answers the plain form of that request (a valid token; no query but ``min_version``; a
well-formed ``X-Min-Version``) when the in-process L1 holds a new enough view, with the
route's very response (:func:`view_response`). Anything else (a miss, an odd parameter
that the route would refuse with a 422) goes on to the route unchanged. A hit does no I/O,
so it needs no request deadline; it is timed and counted like any request.
"""

import re
import time
from urllib.parse import parse_qsl

from overlap_shared.viewcache import version_of
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from overlap_api.http.etags import etag, lists
from overlap_api.http.monitoring import Monitor, record_request
from overlap_api.keys import TOKEN_PATTERN
from overlap_api.wiring import wiring_of

PREFIX = "/api/events/"
ROUTE = "/api/events/{token}"
MAX_VERSION = 2**53
_TOKEN = re.compile(TOKEN_PATTERN)
_NUMBER = re.compile(r"^[0-9]{1,16}$")


def view_response(body: bytes, if_none_match: str | None) -> Response:
    """The view's bytes with its ETag, or 304 when the client holds that version."""
    tag = etag(version_of(body) or 0)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if if_none_match and lists(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def wanted_version(query: bytes, headers: list[str]) -> tuple[bool, int | None]:
    """(plain, the read's ``min_version`` or None); not plain when the route should judge
    the request (an unknown, repeated or malformed parameter)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else []
    values = [v for k, v in pairs if k == "min_version"]
    if len(values) != len(pairs) or len(values) > 1 or len(headers) > 1:
        return False, None
    found = [0]
    for value in values + headers:
        if not _NUMBER.fullmatch(value) or int(value) > MAX_VERSION:
            return False, None
        found.append(int(value))
    return True, max(found) or None


class HotViewReads:
    """ASGI middleware: answers an L1 hit of ``GET /api/events/{token}`` directly."""

    def __init__(self, app: ASGIApp, monitor: Monitor | None) -> None:
        self.app, self.monitor = app, monitor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self._hit(scope) if scope["type"] == "http" else None
        if response is None:
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        await response(scope, receive, send)
        if self.monitor is not None:
            elapsed = time.perf_counter() - started
            record_request(self.monitor, "GET", ROUTE, response.status_code, elapsed, 0)

    def _hit(self, scope: Scope) -> Response | None:
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith(PREFIX):
            return None
        token = path[len(PREFIX) :]
        wiring = wiring_of(scope["app"])
        if wiring is None or not _TOKEN.fullmatch(token):
            return None
        headers = Headers(scope=scope)
        plain, wanted = wanted_version(scope["query_string"], headers.getlist("x-min-version"))
        tags = headers.getlist("if-none-match")
        if not plain or len(tags) > 1 or (tags and len(tags[0]) > 200) or _has_body(headers):
            return None
        local = wiring.views.local(token, wanted)
        if local is None:
            return None
        return view_response(local, tags[0] if tags else None)


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
