"""Process-wide resources, opened in the lifespan and closed on shutdown."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from faststream.kafka import KafkaBroker
from overlap_shared.db import create_engine
from overlap_shared.redis_client import create_redis
from overlap_shared.worker import create_broker
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from overlap_api.http.monitoring import count_sql
from overlap_api.settings import Settings
from overlap_api.writes.availability import GridCache


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    redis: Redis
    broker: KafkaBroker
    grids: GridCache = field(default_factory=GridCache)  # slot grids of the PUT path

    @classmethod
    async def open(cls, settings: Settings) -> "Resources":
        broker = create_broker(settings, "api")
        await broker.connect()
        engine = create_engine(settings.database_url, "overlap-api")
        count_sql(engine)
        return cls(
            settings=settings,
            engine=engine,
            redis=create_redis(settings.redis_url),
            broker=broker,
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """The one place that commits: on leaving the block without an exception."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection in autocommit: each statement is a transaction of its own, with no
        BEGIN and COMMIT round trips. Only for a write that is one statement."""
        async with self.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def close(self) -> None:
        await self.broker.stop()
        await self.redis.aclose()
        await self.engine.dispose()
