"""The transactional-outbox relay: moves committed domain events from PostgreSQL to Kafka.

One relay is active at a time: it holds a session advisory lock on a dedicated connection,
which also LISTENs for the outbox trigger's NOTIFY (with a polling fallback). A relay that
dies loses the lock with its connection and a waiting relay takes over. Rows are claimed
in ``seq`` order with ``FOR UPDATE SKIP LOCKED``, sent in that order through the idempotent
producer (``acks=all``), and deleted only after Kafka acknowledged every one of them, so
delivery is at least once and per-event order holds (writes to one event serialize on its
row, so their outbox rows are numbered in commit order).

Run it inside the API process (``RELAY_ENABLED``, default on) or alone: ``overlap-relay``.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from faststream.kafka import KafkaBroker
from overlap_shared.db import parse_database_url
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

LOCK_KEY = 0x0F1A9_0B0C  # pg advisory lock id of the relay
CHANNEL = "overlap_outbox"

BACKLOG = Gauge("outbox_backlog", "Rows waiting in the outbox")
OLDEST_AGE = Gauge("outbox_oldest_age_seconds", "Age of the oldest outbox row")
LEADER = Gauge("outbox_relay_leader", "1 while this process is the active relay")
PUBLISHED = Counter("outbox_published_total", "Outbox rows acknowledged by Kafka")
FAILURES = Counter("outbox_publish_failures_total", "Batches that failed to publish")
COMMIT_TO_ACK = Histogram(
    "outbox_commit_to_ack_seconds",
    "From the writing transaction's start to Kafka's acknowledgement of its event",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

CLAIM = text(
    "select seq, topic, key, payload, headers, extract(epoch from created_at) "
    "from outbox order by seq limit :limit for update skip locked"
)
DELETE = text("delete from outbox where seq = any(:seqs)")
STATS = text("select count(*), extract(epoch from now() - min(created_at)) from outbox")


@dataclass
class RelayConfig:
    batch_size: int = 500
    poll_interval_s: float = 1.0
    retry_backoff_s: float = 0.5
    max_backoff_s: float = 5.0
    reconnect_after_failures: int = 3


class OutboxRelay:
    """Publishes through a broker of its own, made by ``new_broker``: after a run of failed
    batches it is replaced, since an idempotent producer can be left unusable (for example
    ``OutOfOrderSequenceNumber`` after the broker lost its producer state)."""

    def __init__(
        self,
        engine: AsyncEngine,
        new_broker: Callable[[], KafkaBroker],
        database_url: str,
        config: RelayConfig,
    ) -> None:
        self.engine, self.new_broker, self.config = engine, new_broker, config
        self.broker: KafkaBroker | None = None
        self._dsn = parse_database_url(database_url).url.set(drivername="postgresql")
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Wait for leadership, relay while leader; repeat until stopped."""
        while not self._stopping.is_set():
            try:
                await self._lead()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("relay lost its database connection: %s", exc)
            finally:
                LEADER.set(0)
            await self._sleep(self.config.poll_interval_s)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def _lead(self) -> None:
        dsn = self._dsn.render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn, server_settings={"application_name": "overlap-relay"})
        try:
            while not await conn.fetchval("select pg_try_advisory_lock($1)", LOCK_KEY):
                if await self._sleep(self.config.poll_interval_s):
                    return
            LEADER.set(1)
            log.info("relay is active")
            await conn.add_listener(CHANNEL, lambda *_: self._wake.set())
            backoff, failures = self.config.retry_backoff_s, 0
            while not self._stopping.is_set():
                if conn.is_closed():
                    return
                try:
                    sent = await self.relay_once()
                    backoff, failures = self.config.retry_backoff_s, 0
                except Exception as exc:  # Kafka down, timeouts: keep rows, retry later
                    FAILURES.inc()
                    failures += 1
                    log.warning("publishing the outbox failed, retrying in %.1fs: %s", backoff, exc)
                    if failures % self.config.reconnect_after_failures == 0:
                        await self._drop_broker()
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self.config.max_backoff_s)
                    continue
                if sent < self.config.batch_size:
                    await self._sleep(self.config.poll_interval_s)
        finally:
            await self._drop_broker()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)

    async def _broker(self) -> KafkaBroker:
        if self.broker is None:
            broker = self.new_broker()
            await broker.connect()
            self.broker = broker
        return self.broker

    async def _drop_broker(self) -> None:
        broker, self.broker = self.broker, None
        if broker is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(broker.stop(), 5)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep until woken (NOTIFY, stop) or ``seconds`` pass; True when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()
        return self._stopping.is_set()

    async def relay_once(self) -> int:
        """Publish one batch of outbox rows; returns how many were acknowledged."""
        async with self.engine.begin() as conn:
            rows = (await conn.execute(CLAIM, {"limit": self.config.batch_size})).all()
            if rows:
                broker = await self._broker()
                futures = [
                    await broker.publish(payload, topic, key=key, headers=headers, no_confirm=True)
                    for _, topic, key, payload, headers, _ in rows
                ]
                await asyncio.wait_for(asyncio.gather(*futures), 30)
                acked = time.time()
                await conn.execute(DELETE, {"seqs": [row[0] for row in rows]})
            count, oldest = (await conn.execute(STATS)).one()
        if rows:
            PUBLISHED.inc(len(rows))
            for row in rows:
                COMMIT_TO_ACK.observe(max(0.0, acked - float(row[5])))
        BACKLOG.set(count)
        OLDEST_AGE.set(float(oldest or 0))
        return len(rows)
