"""What PostgreSQL, Redis and Kafka of the chaos stack hold, read for the invariants
(Kafka: every (event id, version) on the domain topic, consumed from the start)."""

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer
from overlap_shared import events
from overlap_shared.bitmaps import from_bytes
from overlap_shared.cache_keys import view_key
from overlap_shared.db import create_engine
from overlap_shared.redis_client import create_redis
from overlap_shared.viewcache import is_tombstone, version_of
from sqlalchemy import text

from chaos.stack import Stack


class Truth:
    """What PostgreSQL, Redis and Kafka hold (Kafka: every (event id, version) seen)."""

    def __init__(self, stack: Stack) -> None:
        self.engine = create_engine(stack.env["DATABASE_URL"], "overlap-chaos")
        self.redis = create_redis(stack.env["REDIS_URL"])
        self.bootstrap = stack.env["KAFKA_BOOTSTRAP_SERVERS"]
        self.topic = stack.env["DOMAIN_TOPIC"]
        self.seen: set[tuple[str, int]] = set()
        self._task = asyncio.create_task(self._consume())

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=self.bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            async for record in consumer:
                with contextlib.suppress(events.MessageError):
                    if record.value is not None:
                        msg = events.decode(record.value)
                        self.seen.add((str(msg.event_id), msg.version))
        finally:
            await consumer.stop()

    async def versions(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("select token, version from events"))
            return {token: version for token, version in rows}

    async def stored_bits(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("select id::text, available from participants"))
            return {pid: from_bytes(bytes(data)) for pid, data in rows}

    async def cached(self, tokens: list[str]) -> dict[str, int | None]:
        """Token -> the version of its view in Redis (None: absent or a tombstone)."""
        out: dict[str, int | None] = {}
        for token, value in zip(tokens, await self.redis.mget(map(view_key, tokens)), strict=True):
            data = value.encode() if isinstance(value, str) else value
            out[token] = None if data is None or is_tombstone(data) else version_of(data)
        return out

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # a failure shows in checks
            await self._task
        await self.redis.aclose()
        await self.engine.dispose()

    async def stored_state(self, tokens: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Of the events ``tokens``: (participant id -> name, and for each event that
        still exists token -> title), one dict of subjects for the churn's checks, and
        the participants alone."""
        async with self.engine.connect() as conn:
            titles = await conn.execute(
                text("select token, title from events where token = any(:t)"), {"t": tokens}
            )
            names = await conn.execute(
                text(
                    "select p.id::text, p.name from participants p join events e"
                    " on e.id = p.event_id where e.token = any(:t)"
                ),
                {"t": tokens},
            )
            participants = {pid: name for pid, name in names}
            return {**participants, **{t: title for t, title in titles}}, participants

    async def relays_connected(self) -> int:
        """Relay processes connected to PostgreSQL (the active one and those waiting)."""
        with contextlib.suppress(Exception):  # PostgreSQL itself may be the fault
            async with self.engine.connect() as conn:
                query = "select count(*) from pg_stat_activity where application_name = :a"
                return int((await conn.execute(text(query), {"a": "overlap-relay"})).scalar_one())
        return 0
