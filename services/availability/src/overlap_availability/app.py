"""The availability worker: consumes domain events, precomputes event views into Redis.

Per batch: records that are not a domain event this code knows go to the group's
dead-letter topic (``<domain topic>.dlt.availability``, header ``error``) and the consumer
goes on: tombstones, oversize or non-JSON values, JSON that is not an envelope, wrong
field types, unknown types or schema versions (see ``overlap_shared.dead_letters``). Every
known domain event type changes the view, so none is ignored. The rest are coalesced per
event; each event is loaded with one SQL statement, its view built and written to Redis
only if newer (compare-and-set), and a ``ViewRefreshed`` is published. Offsets are
committed after all of that (a failure of PostgreSQL, Redis or Kafka nacks the batch so
it is consumed again; replays are harmless because writes are versioned).
"""

import asyncio
import logging
import time

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from overlap_shared import events
from overlap_shared.cache_keys import L1_CHANNEL
from overlap_shared.db import create_engine
from overlap_shared.dead_letters import Record, dead_letter
from overlap_shared.queries import load_snapshot_by_id
from overlap_shared.redis_client import create_redis
from overlap_shared.topics import AVAILABILITY_GROUP
from overlap_shared.view import build_view, serialize_view
from overlap_shared.viewcache import ViewCache
from overlap_shared.worker import asgi_worker, consume_batches, create_broker
from prometheus_client import Counter, Histogram

from overlap_availability.batch import EventChanges, plan_batch
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
DEAD_LETTERED = Counter(
    "availability_dead_lettered_total", "Messages sent to the dead-letter topic"
)
RECOMPUTES = Counter("availability_recomputes_total", "Views recomputed by the worker")


class ViewWorker:
    """Resources of the worker, opened on start-up and closed on shutdown."""

    def __init__(self, settings: Settings, broker: KafkaBroker) -> None:
        self.settings, self.broker = settings, broker

    async def open(self) -> None:
        self.engine = create_engine(self.settings.database_url, "overlap-availability")
        self.redis = create_redis(self.settings.redis_url)
        self.cache = ViewCache(self.redis, self.settings.cache_ttl_availability)
        self.limit = asyncio.Semaphore(self.settings.recompute_concurrency)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()

    async def handle(self, batch: tuple[Record, ...]) -> None:
        BATCH_SIZE.observe(len(batch))
        plan = plan_batch(batch)
        for record, error in plan.poison:
            await dead_letter(self.broker, AVAILABILITY_GROUP, record, error)
            DEAD_LETTERED.inc()
            log.warning(
                "dead-lettered %s/%d@%d: %s", record.topic, record.partition, record.offset, error
            )
        await asyncio.gather(*(self._refresh(c) for c in plan.changes.values()))

    async def _refresh(self, changes: EventChanges) -> None:
        async with self.limit:
            started = time.perf_counter()
            async with self.engine.connect() as conn:
                snap = await load_snapshot_by_id(conn, changes.event_id)
            if snap is None:  # deleted: leave a tombstone no older snapshot can overwrite
                await self.cache.bury(changes.token, changes.version)
                version, size = changes.version, 0
            else:
                event, people = snap
                data = serialize_view(
                    build_view(event, people, retention_days=self.settings.retention_days)
                )
                await self.cache.put(event.token, event.version, data)
                version, size = event.version, len(data)
            await self.redis.publish(L1_CHANNEL, f"{changes.token}:{version}")  # API L1s
            RECOMPUTE.observe(time.perf_counter() - started)
            RECOMPUTES.inc()
        refreshed = events.ViewRefreshed(
            event_id=changes.event_id,
            token=changes.token,
            version=version,
            data=events.ViewRefreshedData(changes=tuple(changes.types), size_bytes=size),
        )
        await self.broker.publish(
            events.encode(refreshed), self.settings.views_topic, key=events.kafka_key(refreshed)
        )


def create_app(settings: Settings) -> AsgiFastStream:
    broker = create_broker(settings, "availability")
    worker = ViewWorker(settings, broker)

    consume_batches(
        broker,
        settings.domain_topic,
        AVAILABILITY_GROUP,
        worker.handle,
        max_records=settings.batch_max_records,
        description="Coalesces each event's changes and refreshes its view in Redis",
    )

    app = asgi_worker(broker, "overlap-availability", "Precomputes event views into Redis")
    app.on_startup(worker.open)
    app.after_shutdown(worker.close)
    return app
