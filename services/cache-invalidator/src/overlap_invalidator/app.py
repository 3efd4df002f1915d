"""The cache invalidator: clears the cache tags that domain events dirty.

Per batch: records that are not a domain event this code knows go to the group's
dead-letter topic (``<domain topic>.dlt.cache-invalidator``, header ``error``) and the
consumer goes on: tombstones, oversize or non-JSON values, JSON that is not an envelope,
wrong field types, unknown types or schema versions (see ``overlap_shared.dead_letters``).
No known type is ignored: each raises its event's version floor, even one that dirties no
tag (``table.BY_TYPE``). The rest are merged per event (union of tags, highest
version); each event's floor is raised and its tags' keys unlinked in pipelined batches;
the API processes are told on the L1 channel to forget the event's metadata. Offsets
are committed after the deletes (a Redis failure nacks the batch, which is then consumed
again: invalidating twice is harmless).
"""

import logging
import time

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from overlap_shared import events
from overlap_shared.cache_keys import L1_CHANNEL
from overlap_shared.dead_letters import Record, dead_letter, reason
from overlap_shared.redis_client import create_redis
from overlap_shared.tagcache import TagCache
from overlap_shared.topics import INVALIDATOR_GROUP
from overlap_shared.worker import asgi_worker, consume_batches, create_broker
from prometheus_client import Counter, Histogram

from overlap_invalidator.settings import Settings
from overlap_invalidator.table import tags_for

log = logging.getLogger(__name__)
KEYS_CLEARED = Counter("invalidator_keys_cleared_total", "Cache keys unlinked")
EVENTS_DONE = Counter("invalidator_messages_total", "Domain messages processed")
DEAD_LETTERED = Counter("invalidator_dead_lettered_total", "Messages sent to dead letters")
LATENCY = Histogram(
    "invalidator_latency_seconds",
    "From the domain event to its caches being cleared",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)


class Invalidator:
    def __init__(self, settings: Settings, broker: KafkaBroker) -> None:
        self.settings, self.broker = settings, broker

    async def open(self) -> None:
        self.redis = create_redis(self.settings.redis_url)
        self.tags = TagCache(self.redis)

    async def close(self) -> None:
        await self.redis.aclose()

    async def handle(self, batch: tuple[Record, ...]) -> None:
        per_event: dict[str, tuple[int, set[str]]] = {}
        users: set[str] = set()
        decoded: list[events.DomainEvent] = []
        for record in batch:
            try:
                msg = events.decode(record.value)  # None (a tombstone) is malformed too
            except events.MessageError as exc:
                await dead_letter(self.broker, INVALIDATOR_GROUP, record, reason(exc))
                DEAD_LETTERED.inc()
                log.warning(
                    "dead-lettered %s/%d@%d: %s", record.topic, record.partition, record.offset, exc
                )
                continue
            decoded.append(msg)
            tags, dirty_users = tags_for(msg)
            version, known = per_event.get(msg.token, (0, set()))
            per_event[msg.token] = (max(version, msg.version), known | set(tags))
            users.update(dirty_users)
        floor_ttl = self.settings.longest_cache_ttl_ms
        for token, (version, dirty) in per_event.items():
            KEYS_CLEARED.inc(await self.tags.invalidate(token, version, sorted(dirty), floor_ttl))
            if "meta" in dirty:
                await self.redis.publish(L1_CHANNEL, token)
        KEYS_CLEARED.inc(await self.tags.invalidate_users(sorted(users)))
        now = time.time()
        for msg in decoded:
            LATENCY.observe(max(0.0, now - msg.occurred_at.timestamp()))
        EVENTS_DONE.inc(len(decoded))


def create_app(settings: Settings) -> AsgiFastStream:
    broker = create_broker(settings, "cache-invalidator")
    invalidator = Invalidator(settings, broker)

    consume_batches(
        broker,
        settings.domain_topic,
        INVALIDATOR_GROUP,
        invalidator.handle,
        max_records=500,
        description="Clears the cache tags each domain event dirties",
    )

    app = asgi_worker(broker, "overlap-cache-invalidator", "Clears the cache tags events dirty")
    app.on_startup(invalidator.open)
    app.after_shutdown(invalidator.close)
    return app
