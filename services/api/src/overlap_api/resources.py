"""Process-wide resources, opened in the lifespan and closed on shutdown.

With ``DATABASE_REPLICA_URL`` the API also holds an engine on a PostgreSQL streaming
replica: :meth:`Resources.replica_reading` is where a cache miss rebuilds a view (the
view reader goes back to the primary when the replica's copy is older than the reader's
``min_version``). Every other read and every write uses the primary.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
from asyncpg.exceptions import OperatorInterventionError, PostgresConnectionError
from faststream.kafka import KafkaBroker
from overlap_shared.db import create_engine, create_pool
from overlap_shared.redis_client import RedisClient, create_redis
from overlap_shared.worker import create_broker
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from overlap_api.http.monitoring import count_sql
from overlap_api.settings import Settings
from overlap_api.writes.availability import GridCache
from overlap_api.writes.own_writes import OwnWrites

# What asyncpg raises when the connection is lost or unusable (closed, reset, timed out,
# the server shutting down or restarting; a server's error that reached an idle connection,
# as when its backend was terminated, leaves its protocol in a state that refuses the next
# statement: InternalClientError): the connection goes, the request gets a 503.
CONNECTION_FAILURES = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    PostgresConnectionError,
    OperatorInterventionError,
    OSError,
    TimeoutError,
)


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    redis: RedisClient
    broker: KafkaBroker
    put_pool: asyncpg.Pool  # the PUT's: WRITE_CONCURRENCY connections, one per admitted write
    replica: AsyncEngine | None = None  # DATABASE_REPLICA_URL's, when set
    grids: GridCache = field(default_factory=GridCache)  # slot grids of the PUT path
    own_writes: OwnWrites = field(default_factory=OwnWrites)  # the PUTs it made, for reads

    @classmethod
    async def open(cls, settings: Settings) -> "Resources":
        broker = create_broker(settings, "api")
        await broker.connect()
        engine = create_engine(settings.database_url, "overlap-api")
        put_pool = await create_pool(
            settings.database_url, "overlap-api-put", settings.write_concurrency
        )
        replica = None
        if settings.database_replica_url:
            replica = create_engine(settings.database_replica_url, "overlap-api-replica")
        for counted in (engine, replica):
            if counted is not None:
                count_sql(counted)
        return cls(
            settings=settings,
            engine=engine,
            redis=create_redis(settings.redis_url, cluster=settings.redis_cluster),
            broker=broker,
            put_pool=put_pool,
            replica=replica,
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """The one place that commits: on leaving the block without an exception."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection in autocommit: each statement is a transaction of its own, with no
        BEGIN and COMMIT (or ROLLBACK) round trips. Only for work that is one statement: a
        write, or a read that must see one snapshot (a view's)."""
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the PUT's own pool (:attr:`put_pool`), for its one statement in
        autocommit, past SQLAlchemy's pool, execution context and result (issue #15). The
        wait for one is bounded by the request's deadline. A lost connection is dropped
        (the pool opens a fresh one) and the failure is a ``DisconnectionError`` (a 503
        the client may retry), as SQLAlchemy does for its own statements."""
        try:
            async with self.put_pool.acquire() as conn:
                try:
                    yield conn
                except CONNECTION_FAILURES:
                    conn.terminate()
                    raise
        except CONNECTION_FAILURES as exc:  # the statement's, or opening a connection
            raise DisconnectionError(f"{type(exc).__name__}: {exc}") from exc

    def reading(self) -> AsyncConnection:
        """A connection to the primary, for ``async with`` (closed on leaving the block)."""
        return self.engine.connect()

    @asynccontextmanager
    async def replica_reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection to the replica, or to the primary when there is none; in
        autocommit, as for :meth:`statement` (every read there is one statement)."""
        async with (self.replica or self.engine).connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    async def close(self) -> None:
        await self.broker.stop()
        await self.redis.aclose()
        await self.engine.dispose()
        await self.put_pool.close()
        if self.replica is not None:
            await self.replica.dispose()
