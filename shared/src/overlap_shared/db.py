"""Async SQLAlchemy engine from DATABASE_URL, honouring the user's pool parameters.

``DATABASE_URL`` may carry ``connection_limit`` (pool size, default 20) and
``pool_timeout`` (milliseconds, default 10000) as query parameters, as in the user's
performance guide. They configure the SQLAlchemy pool and are removed before the URL
reaches asyncpg, which would reject them.

:func:`create_pool` opens a plain asyncpg pool on the same URL, for the API's PUT: one
statement in autocommit per checkout, where SQLAlchemy's checkout and check-in cost more
CPU than the statement's own round trip (issue #15).
"""

from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_POOL_SIZE = 20
DEFAULT_POOL_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 3.0
COMMAND_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PoolConfig:
    url: URL
    pool_size: int
    pool_timeout_s: float


def parse_database_url(raw: str) -> PoolConfig:
    """Split the pool parameters off a DATABASE_URL (pure; raises ValueError when bad)."""
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+asyncpg")
    query = dict(url.query)
    size = _positive_int(query.pop("connection_limit", DEFAULT_POOL_SIZE), "connection_limit")
    timeout = _positive_int(query.pop("pool_timeout", DEFAULT_POOL_TIMEOUT_MS), "pool_timeout")
    return PoolConfig(url.set(query=query), size, timeout / 1000)


def _positive_int(value: object, name: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ValueError(f"DATABASE_URL {name} must be an integer, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"DATABASE_URL {name} must be positive, got {number}")
    return number


def create_engine(raw_url: str, application_name: str) -> AsyncEngine:
    """The process's engine; call it in a lifespan, never at import time."""
    cfg = parse_database_url(raw_url)
    return create_async_engine(
        cfg.url,
        pool_size=cfg.pool_size,
        max_overflow=0,
        pool_timeout=cfg.pool_timeout_s,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={
            "server_settings": {"application_name": application_name},
            "timeout": CONNECT_TIMEOUT_S,  # a paused server must not hang requests
            "command_timeout": COMMAND_TIMEOUT_S,
        },
    )


def asyncpg_dsn(raw_url: str) -> str:
    """DATABASE_URL as asyncpg takes it: ``postgresql://``, the pool parameters removed (pure)."""
    url = parse_database_url(raw_url).url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def create_pool(raw_url: str, application_name: str, size: int) -> asyncpg.Pool:
    """An asyncpg pool of at most ``size`` connections on DATABASE_URL, opened lazily (no
    connection until the first acquire), for work that is one statement in autocommit
    (asyncpg's default): a released connection holds no transaction, no session setting,
    no lock, so it goes back to the pool without a reset round trip."""
    return await asyncpg.create_pool(
        asyncpg_dsn(raw_url),
        min_size=0,
        max_size=size,
        reset=_nothing_to_reset,
        timeout=CONNECT_TIMEOUT_S,
        command_timeout=COMMAND_TIMEOUT_S,
        server_settings={"application_name": application_name},
    )


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """The pool's reset: asyncpg's own rolls back an open transaction first; the default
    (``RESET ALL``, ``UNLISTEN *``...) would cost a round trip per release."""
