"""The hottest write, answered before the framework: ``PUT .../participants/me/availability``.

Through FastAPI a PUT cost several times the CPU of its one SQL statement: route matching
over every route, dependency resolution, header and body validation by pydantic, the
request object and its JSON decoding. This ASGI middleware answers the plain form of the
request itself: a valid token, one ``X-Participant-Key`` of 1 to 128 characters, a JSON
body (``Content-Type: application/json``, a ``Content-Length`` within the body limit)
that is an object with at most ``available`` and ``if_needed``, each a list of at most
``MAX_RANGES`` pairs of integers. It runs the route's very function
(``writes.availability.replace_availability``) and answers with the route's bytes; a
failure gets the answer the app's exception handlers give (``errors.answer_for``).
Anything else (no key, a body the route would refuse with a 422, a chunked body) goes on
to the route unchanged, its body replayed. It sits inside the admission bound, the
request deadline and the metrics (timed under the route's template, its SQL counted).
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from overlap_shared.bitmaps import MAX_RANGES
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overlap_api.http.deadline import not_after
from overlap_api.http.errors import MAX_BODY_BYTES, answer_for
from overlap_api.keys import MAX_KEY_LENGTH, TOKEN_PATTERN
from overlap_api.wiring import wiring_of
from overlap_api.writes.availability import Ranges, replace_availability

PREFIX, SUFFIX = "/api/events/", "/participants/me/availability"
TEMPLATE = PREFIX + "{token}" + SUFFIX
FIELDS = frozenset({"available", "if_needed"})
JSON = "application/json"
JSON_TYPE = JSON.encode()
TOKEN = re.compile(TOKEN_PATTERN)


@dataclass(frozen=True)
class RouteTemplate:
    """What the metrics read of ``scope["route"]`` (the router sets it to the route)."""

    path: str


ROUTE = RouteTemplate(TEMPLATE)


def plain_ranges(value: object) -> list[list[int]] | None:
    """``value`` when it is a list of at most ``MAX_RANGES`` pairs of integers (not
    booleans: the route's ``StrictInt``), else None (pure)."""
    if type(value) is not list or len(value) > MAX_RANGES:
        return None
    for pair in value:
        if type(pair) is not list or len(pair) != 2:
            return None
        if type(pair[0]) is not int or type(pair[1]) is not int:
            return None
    return value


def plain_body(raw: bytes) -> Ranges | None:
    """The (available, if_needed) ranges of a body the route would accept as it stands;
    None for anything it might judge otherwise (pure)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or not doc.keys() <= FIELDS:
        return None
    available = plain_ranges(doc.get("available", []))
    if_needed = plain_ranges(doc.get("if_needed", []))
    if available is None or if_needed is None:
        return None
    return available, if_needed


def plain_request(scope: Scope) -> tuple[str, str] | None:
    """(token, participant key) of a plain PUT availability, else None (pure)."""
    path: str = scope["path"]
    if scope["method"] != "PUT" or not path.startswith(PREFIX) or not path.endswith(SUFFIX):
        return None
    token = path[len(PREFIX) : -len(SUFFIX)]
    if not TOKEN.fullmatch(token):
        return None
    keys, kinds, lengths = [], [], []
    for name, value in scope["headers"]:
        if name == b"x-participant-key":
            keys.append(value)
        elif name == b"content-type":
            kinds.append(value)
        elif name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            return None
    if len(keys) != 1 or not 0 < len(keys[0]) <= MAX_KEY_LENGTH or len(kinds) != 1:
        return None
    if kinds[0].decode("latin-1").split(";")[0].strip().lower() != JSON:
        return None
    if len(lengths) != 1 or not lengths[0].isdigit() or int(lengths[0]) > MAX_BODY_BYTES:
        return None
    return token, keys[0].decode("latin-1")


async def read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body; False when the client went away meanwhile."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replayed(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A ``receive`` that gives ``body`` (already read) once, then the client's messages."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class FastAvailabilityPut:
    """ASGI middleware: answers a plain ``PUT .../participants/me/availability`` directly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain = plain_request(scope) if scope["type"] == "http" else None
        wiring = wiring_of(scope["app"]) if plain is not None else None
        if plain is None or wiring is None:
            return await self.app(scope, receive, send)
        body, connected = await read_body(receive)
        if not connected:
            return None  # nobody to answer
        ranges = plain_body(body)
        if ranges is None:
            return await self.app(scope, replayed(body, receive), send)
        scope["route"] = ROUTE  # the metrics' template
        token, key = plain
        try:
            answer = await replace_availability(
                wiring.resources, token, key, ranges, not_after(scope)
            )
        except Exception as exc:
            return await answer_for(exc)(scope, receive, send)
        await send_json(send, orjson.dumps(answer))


async def send_json(send: Send, body: bytes) -> None:
    """A 200 with a JSON body, as starlette's ``Response`` sends it, without building one."""
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", JSON_TYPE)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
