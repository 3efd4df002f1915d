"""The availability worker: consumes domain events, precomputes event views into Redis.

The worker shape of ``overlap_shared.consumer``: records that are not a domain event this
code knows go to the group's dead-letter topic (``<domain topic>.dlt.<group>``, header
``error``) and the consumer goes on. Every known domain event type changes the view, so
none is skipped; only the types that say what changed (``batch.BODIES``) have their body
decoded. ``batch.plan_batch`` coalesces the batch per event. Each event's view comes from
its in-process aggregate (``aggregates``): as a delta from the changed participants' rows
when the batch continues the aggregate's version, else from one SQL statement's whole
snapshot, applied as the rows that differ from the held ones (``overlap_shared.held``) or
rebuilt in full; a sampled share of deltas is checked against a full rebuild
(``availability_consistency_mismatches_total``, expected 0). The view is written to Redis
only if newer (compare-and-set), and a ``ViewRefreshed`` is published; a batch at or
below the version this process last published is skipped whole. Offsets are
committed after all of that (an outage of PostgreSQL, Redis or Kafka makes the batch be
consumed again; replays are harmless because writes are versioned; a record that fails
on its own is dead-lettered after ``WORKER_MAX_ATTEMPTS``).
"""

import asyncio
import dataclasses
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Sequence

from faststream.asgi import AsgiFastStream
from overlap_shared import codec, events
from overlap_shared.consumer import Consumer, PoisonRule
from overlap_shared.db import create_engine
from overlap_shared.eviction_channel import announce
from overlap_shared.held import Held, build, refresh
from overlap_shared.intake import Inbound, Intake, Interest
from overlap_shared.producer import ReplaceableProducer, kafka_producer, typed_headers
from overlap_shared.queries import load_participants_by_id, load_snapshot_by_id
from overlap_shared.redis_client import create_redis, ping_every_node
from overlap_shared.viewcache import ViewCache
from overlap_shared.worker import Fetch, asgi_worker, consume_batches, create_broker
from prometheus_client import Counter, Histogram
from sqlalchemy import text

from overlap_availability.aggregates import Aggregates, apply_delta, can_apply
from overlap_availability.batch import BODIES, EventChanges, plan_batch
from overlap_availability.settings import Settings

log = logging.getLogger(__name__)
BATCH_SIZE = Histogram(
    "availability_batch_messages", "Messages per consumed batch", buckets=(1, 5, 20, 100, 500)
)
RECOMPUTE = Histogram(
    "availability_recompute_seconds",
    "Load, build and store one event's view",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
RECOMPUTES = Counter("availability_recomputes_total", "Views recomputed by the worker")
REFRESHES = Counter("availability_refreshes_total", "View refreshes by how", ["how"])
CHECKS = Counter("availability_consistency_checks_total", "Deltas compared with a full rebuild")
MISMATCHES = Counter(
    "availability_consistency_mismatches_total", "Deltas that differed from a full rebuild"
)


Plan = dict[uuid.UUID, EventChanges]
_NO_EVENT = uuid.UUID(int=0)  # no event has it: a read that prepares, and finds nothing
_WARM_UP_S = 5.0  # the whole warm-up's bound


class ViewWorker:
    """The worker; its resources are opened on start-up and closed on shutdown."""

    interest = Interest(codec.DOMAIN, frozenset(events.DOMAIN_EVENT_TYPES), BODIES)

    def __init__(self, settings: Settings, producer: ReplaceableProducer) -> None:
        self.settings, self.producer = settings, producer

    async def open(self) -> None:
        self.pool = create_engine(self.settings.database_url, "overlap-availability")
        # Every read is one statement: without a transaction around it, no BEGIN and
        # ROLLBACK round trips (nor their work in PostgreSQL) per read.
        self.engine = self.pool.execution_options(isolation_level="AUTOCOMMIT")
        self.redis = create_redis(self.settings.redis_url, cluster=self.settings.redis_cluster)
        self.cache = ViewCache(self.redis, self.settings.cache_ttl_availability)
        self.limit = asyncio.Semaphore(self.settings.recompute_concurrency)
        self.aggregates = Aggregates(self.settings.aggregate_memory_mb * 2**20)
        await self._warm_up()

    async def _warm_up(self) -> None:
        """Before the first batch: start the producer (made on first use otherwise), open
        the connections one batch's refreshes use at once and prepare the snapshot reads
        on each. Otherwise the first batch after a start pays for them, a fixed cost per
        worker that a scaled-out group pays once per worker (asyncpg prepares each
        statement, and introspects its types, once per connection). Best effort: with a
        dependency down, the first batch does it."""

        async def one() -> None:
            async with self.engine.connect() as conn:
                await load_snapshot_by_id(conn, _NO_EVENT)
                await load_participants_by_id(conn, _NO_EVENT, [_NO_EVENT])
                await asyncio.sleep(0)  # hold it until the others have theirs

        n, deadline = self.settings.recompute_concurrency, time.monotonic() + _WARM_UP_S
        await _ahead("the Kafka producer", self.producer.publish_all(()), deadline)  # sends none
        pool = asyncio.gather(*(one() for _ in range(n)))
        await _ahead("the PostgreSQL connections", pool, deadline)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.pool.dispose()

    async def probe(self) -> None:
        await ping_every_node(self.redis)
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def plan(self, inbound: Sequence[Inbound[events.DomainEvent]]) -> Plan:
        BATCH_SIZE.observe(len(inbound))
        return plan_batch(inbound)

    async def apply(self, plan: Plan) -> None:
        await asyncio.gather(*(self._refresh(c) for c in plan.values()))

    async def _refresh(self, changes: EventChanges) -> None:
        if changes.version <= self.aggregates.published(changes.event_id):
            REFRESHES.labels("published").inc()  # a newer view is already out: nothing new
            return
        async with self.limit:
            started = time.perf_counter()
            try:
                view = await self._view(changes)
            except BaseException:
                self.aggregates.drop(changes.event_id)  # its state is unknown now
                raise
            if view is None:  # deleted: leave a tombstone no older snapshot can overwrite
                await self.cache.bury(changes.token, changes.version)
                version, size = changes.version, 0
            else:
                version, data = view
                await self.cache.put(changes.token, version, data)
                size = len(data)
            await announce(self.redis, f"{changes.token}:{version}")  # API L1s
            RECOMPUTE.observe(time.perf_counter() - started)
            RECOMPUTES.inc()
        refreshed = events.ViewRefreshed(
            event_id=changes.event_id,
            token=changes.token,
            version=version,
            data=events.ViewRefreshedData(changes=tuple(changes.types), size_bytes=size),
        )
        await self.producer.publish(
            events.encode(refreshed),
            self.settings.views_topic,
            key=events.kafka_key(refreshed),
            headers=typed_headers(refreshed.type),
        )
        self.aggregates.mark_published(changes.event_id, version)

    async def _view(self, changes: EventChanges) -> tuple[int, bytes] | None:
        """The event's (version, view bytes), or None when the event is gone."""
        held = self.aggregates.get(changes.event_id)
        agg = None if held is None else held.aggregate
        if agg is not None and agg.version >= changes.version:  # a replay: already applied
            REFRESHES.labels("replay").inc()
            return agg.version, agg.render()
        if held is not None and can_apply(agg, changes):
            async with self.engine.connect() as conn:
                snap = await load_participants_by_id(conn, changes.event_id, changes.participants)
            if snap is None:
                self.aggregates.drop(changes.event_id)
                return None
            event, rows = snap
            if event.version == changes.version and apply_delta(
                held, event, rows, changes.participants
            ):
                return await self._kept(held, "delta")
        return await self._rebuild(changes, held)

    async def _rebuild(self, changes: EventChanges, held: Held | None) -> tuple[int, bytes] | None:
        """From the whole snapshot: the difference from the held aggregate when it can say
        it (``held.refresh``), else a full rebuild."""
        async with self.engine.connect() as conn:
            snap = await load_snapshot_by_id(conn, changes.event_id)
        if snap is None:
            self.aggregates.drop(changes.event_id)
            return None
        event, people = snap
        fresh = held is not None and not changes.full and event.version >= held.aggregate.version
        if held is not None and fresh and refresh(held, event, people):
            return await self._kept(held, "diff")
        REFRESHES.labels("full").inc()
        held = build(event, people, self.settings.retention_days)
        self.aggregates.put(changes.event_id, held)
        return held.aggregate.version, held.aggregate.render()

    async def _kept(self, held: Held, how: str) -> tuple[int, bytes]:
        """An aggregate brought forward by deltas: held again, its view checked (sampled)."""
        REFRESHES.labels(how).inc()
        self.aggregates.put(held.aggregate.event.id, held)
        return held.aggregate.version, await self._checked(held)

    async def _checked(self, held: Held) -> bytes:
        """The delta's view; for a sampled share, compared with a full rebuild first."""
        agg = held.aggregate
        data = agg.render()
        if random.random() >= self.settings.consistency_sample:
            return data
        async with self.engine.connect() as conn:
            snap = await load_snapshot_by_id(conn, agg.event.id)
        if snap is None or snap[0].version != agg.version:
            return data  # moved on meanwhile: nothing to compare at this version
        CHECKS.inc()
        full = build(*snap, self.settings.retention_days)
        expected = full.aggregate.render()
        if expected != data:
            MISMATCHES.inc()
            log.error(
                "view delta differs from a full rebuild: event %s v%d", agg.event.id, agg.version
            )
            self.aggregates.put(agg.event.id, full)
        return expected


async def _ahead(what: str, connecting: Awaitable[object], deadline: float) -> None:
    """Await ``connecting`` until ``deadline`` (``time.monotonic``: a paused dependency
    must not hold the start); a failure is logged, and the first batch connects instead."""
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            await connecting
    except Exception as exc:
        log.warning("could not connect %s ahead of the first batch: %r", what, exc)


def view_fetch(settings: Settings) -> Fetch:
    """The domain topic's fetch, with the worker's own pause: after a batch of two records
    or more (writes come faster than it refreshes), counted from the batch's start, so
    while writes keep coming one batch (one refresh per event) per
    ``availability_linger_ms``; a lone write, one at a time, is never held."""
    return dataclasses.replace(
        Fetch.from_settings(settings),
        linger_ms=settings.availability_linger_ms,
        linger_from_start=True,
        linger_min_records=2,
    )


def create_app(settings: Settings) -> AsgiFastStream:
    broker = create_broker(settings, "availability")
    producer = kafka_producer(settings, "availability")  # views and dead letters
    worker = ViewWorker(settings, producer)
    group = settings.consumer_groups()["availability"]
    rule = PoisonRule.from_settings(settings)
    commits = consume_batches(
        broker,
        settings.domain_topic,
        Consumer(Intake(producer, group, ViewWorker.interest), worker, rule),
        max_records=settings.batch_max_records,
        description="Coalesces each event's changes and refreshes its view in Redis",
        fetch=view_fetch(settings),
    )
    about = "Precomputes event views into Redis"
    app = asgi_worker(broker, "overlap-availability", about, worker, [commits])
    app.after_shutdown(producer.stop)
    return app
