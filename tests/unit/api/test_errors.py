"""PostgreSQL restarting under a request is unavailability (503 + Retry-After), whichever
way asyncpg reports it; any other database error stays a 500."""

import asyncpg.exceptions as pg
import httpx
import pytest
from fastapi import FastAPI
from overlap_api.http.errors import install_error_handlers
from sqlalchemy.exc import DBAPIError


class _Wrapped(Exception):
    """What SQLAlchemy's asyncpg adapter raises, with the asyncpg error as its cause."""


def _dbapi_error(cause: Exception) -> DBAPIError:
    orig = _Wrapped(str(cause))
    orig.__cause__ = cause
    return DBAPIError("select 1", None, orig)


@pytest.mark.parametrize(
    ("cause", "status"),
    [
        (pg.CannotConnectNowError("the database system is starting up"), 503),
        (pg.AdminShutdownError("terminating connection due to administrator command"), 503),
        (pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"), 503),
        (pg.DataError("invalid input syntax"), 500),
    ],
)
async def test_database_errors_map_to_503_only_when_the_database_went_away(
    cause: Exception, status: int
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise _dbapi_error(cause)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/boom")
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert ("retry-after" in r.headers) == (status == 503)
