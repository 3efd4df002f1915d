"""Named errors, and the one place that maps them to RFC 9457 problem+json answers."""

import logging
from typing import Any, ClassVar

import orjson
from asyncpg.exceptions import OperatorInterventionError, PostgresConnectionError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
RETRY_AFTER_S = 2
# As the gateway (client_max_body_size 256k); the largest valid body, an availability PATCH
# of 3 x 1,000 ranges, is about 60 KB.
MAX_BODY_BYTES = 256 * 1024
# What asyncpg raises (wrapped in a plain DBAPIError) when PostgreSQL restarts under us:
# "the database system is starting up / shutting down", "connection was closed".
CONNECTION_LOST = (OperatorInterventionError, PostgresConnectionError)

# OpenAPI descriptions of the problem answers the key-bearing routes give.
KEYED_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "key missing"},
    403: {"description": "key of another event or participant"},
    404: {"description": "no such event or participant"},
    422: {"description": "invalid input"},
}


NO_SUCH_EVENT = "no event has this link (it may have been deleted)"


class OverlapError(Exception):
    """A failure the client can act on; subclasses name what happened."""

    status = 400
    title = "Bad request"
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def response_headers(self) -> dict[str, str]:
        return dict(self.headers or {})


class NotFound(OverlapError):
    status, title = 404, "Not found"


class EventNotFound(NotFound):
    title = "Event not found"

    def __init__(self, detail: str = NO_SUCH_EVENT) -> None:
        super().__init__(detail)


class ParticipantNotFound(NotFound):
    title = "Participant not found"


class KeyRequired(OverlapError):
    status, title = 401, "Key required"


class Forbidden(OverlapError):
    status, title = 403, "Forbidden"


class PayloadTooLarge(OverlapError):
    status, title = 413, "Payload too large"


class UnsupportedMediaType(OverlapError):
    status, title = 415, "Unsupported media type"


class NameTaken(OverlapError):
    status, title = 409, "Name taken"


class Conflict(OverlapError):
    status, title = 409, "Conflict"


class VersionMismatch(OverlapError):
    status, title = 412, "Precondition failed"


class Invalid(OverlapError):
    status, title = 422, "Invalid input"


class TooMany(OverlapError):
    status, title = 422, "Limit reached"


class Unavailable(OverlapError):
    """The process cannot serve this now (still starting); retry soon."""

    status, title = 503, "Service unavailable"
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": str(RETRY_AFTER_S)}


class RateLimited(OverlapError):
    """A route-class rate limit was reached (rate_limits.py); retry after ``retry_after_s``."""

    status, title = 429, "Too many requests"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    def response_headers(self) -> dict[str, str]:
        return {**super().response_headers(), "Retry-After": str(self.retry_after_s)}


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM)


class BodyLimit:
    """ASGI middleware: a body over ``MAX_BODY_BYTES`` is a 413 problem, refused up front when
    Content-Length says so, else as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length", "0")
        if not length.isdigit() or int(length) > self.limit:
            return await self._refuse(scope, receive, send)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:  # raised inside the route: answered by on_http below
                raise HTTPException(413, self._detail)
            return message

        await self.app(scope, limited, send)

    @property
    def _detail(self) -> str:
        return f"request bodies are limited to {self.limit // 1024} KB"

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "Payload too large", self._detail)
        response.headers["Connection"] = "close"  # the unread body stays unread
        await response(scope, receive, send)


def unavailable(detail: str) -> Response:
    """503 with Retry-After: the client may retry this request soon."""
    response = problem(503, "Service unavailable", detail)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        errors.append(
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return errors[:50]


# What a database that is down, paused or out of connections raises (a fast 503).
DATABASE_UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
    OSError,
    TimeoutError,
)


def overlap_problem(exc: OverlapError) -> Response:
    response = problem(exc.status, exc.title, exc.detail)
    response.headers.update(exc.response_headers())
    return response


def database_went_away(exc: DBAPIError) -> bool:
    cause = getattr(exc.orig, "__cause__", None)
    return bool(exc.connection_invalidated) or isinstance(cause, CONNECTION_LOST)


def answer_for(exc: Exception) -> Response:
    """The one mapping of a failure to its problem answer: the app's exception handlers
    and the PUT fast path (``http.fast_put``), which answers before the framework, use it."""
    if isinstance(exc, OverlapError):
        return overlap_problem(exc)
    if isinstance(exc, DATABASE_UNAVAILABLE) or (
        isinstance(exc, DBAPIError) and database_went_away(exc)
    ):  # PostgreSQL down, paused or out of connections: a fast 503 the client may retry
        log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc)[:200])
        return unavailable("the database is unavailable; retry soon")
    if isinstance(exc, HTTPException):
        return _http_problem(exc)
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal server error", "something went wrong on our side")


def _http_problem(exc: HTTPException) -> Response:
    if exc.status_code == 400:  # FastAPI could not decode the body (not UTF-8, ...)
        error = {"loc": ["body"], "msg": str(exc.detail), "type": "body_invalid"}
        return problem(422, "Invalid input", f"body: {exc.detail}", errors=[error])
    title = "Payload too large" if exc.status_code == 413 else str(exc.detail)
    response = problem(exc.status_code, title, str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


def install_error_handlers(app: FastAPI) -> None:
    async def on_failure(_: Request, exc: Exception) -> Response:
        return answer_for(exc)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = _field_errors(exc)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}"
        return problem(422, "Invalid input", detail, errors=errors)

    for kind in (OverlapError, *DATABASE_UNAVAILABLE, DBAPIError, HTTPException, Exception):
        app.add_exception_handler(kind, on_failure)
