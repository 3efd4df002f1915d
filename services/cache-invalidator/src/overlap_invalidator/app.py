"""The cache invalidator: clears the cache tags that domain events dirty.

The worker shape of ``overlap_shared.consumer``: records that cannot be read go to the
group's dead-letter topic (``<domain topic>.dlt.<group>``); every known type is read from
its envelope (each raises its event's version floor, even one that dirties no tag, see
``table.BY_TYPE``), and only the types that name a participant or a user have their body
decoded. ``plan.plan_batch`` merges a batch per event (union of tags, highest version);
``apply`` raises every floor and reads every tag in one pipelined round trip, unlinks the
members in a second, and tells the API processes on the L1 channel to forget the events
whose metadata changed. Offsets are committed after that (a Redis outage makes the batch
be consumed again: invalidating twice is harmless).
"""

import time
from collections.abc import Sequence

from faststream.asgi import AsgiFastStream
from overlap_shared import codec, events
from overlap_shared.consumer import Consumer, PoisonRule
from overlap_shared.eviction_channel import queue_announce
from overlap_shared.intake import Inbound, Intake, Interest
from overlap_shared.producer import kafka_producer
from overlap_shared.redis_client import create_redis, ping_every_node
from overlap_shared.tagcache import TagCache, invalidate_many
from overlap_shared.worker import Fetch, asgi_worker, consume_batches, create_broker
from prometheus_client import Counter, Histogram

from overlap_invalidator.plan import Plan, plan_batch
from overlap_invalidator.settings import Settings
from overlap_invalidator.table import BODIES

KEYS_CLEARED = Counter("invalidator_keys_cleared_total", "Cache keys unlinked")
LATENCY = Histogram(
    "invalidator_latency_seconds",
    "From the domain event to its caches being cleared",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)


class Invalidator:
    """The worker: its Redis client is opened on start-up."""

    interest = Interest(codec.DOMAIN, frozenset(events.DOMAIN_EVENT_TYPES), BODIES)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def open(self) -> None:
        self.redis = create_redis(self.settings.redis_url, cluster=self.settings.redis_cluster)
        self.tags = TagCache(self.redis)

    async def close(self) -> None:
        await self.redis.aclose()

    async def probe(self) -> None:
        await ping_every_node(self.redis)

    def plan(self, inbound: Sequence[Inbound[events.DomainEvent]]) -> Plan:
        return plan_batch(inbound)

    async def apply(self, plan: Plan) -> None:
        floor_ttl = self.settings.longest_cache_ttl_ms
        cleared = await invalidate_many(self.redis, plan.events, floor_ttl)
        cleared += await self.tags.invalidate_users(plan.users)
        if plan.meta_changed:
            async with self.redis.pipeline(transaction=False) as pipe:
                for token in plan.meta_changed:
                    queue_announce(pipe, token)
                await pipe.execute()
        KEYS_CLEARED.inc(cleared)
        now = time.time()
        for at in plan.occurred_at:
            LATENCY.observe(max(0.0, now - at))


def create_app(settings: Settings) -> AsgiFastStream:
    broker = create_broker(settings, "cache-invalidator")
    producer = kafka_producer(settings, "cache-invalidator")  # for dead letters
    invalidator = Invalidator(settings)
    group = settings.consumer_groups()["invalidator"]
    consumer = Consumer(
        Intake(producer, group, Invalidator.interest),
        invalidator,
        PoisonRule.from_settings(settings),
    )
    commits = consume_batches(
        broker,
        settings.domain_topic,
        consumer,
        max_records=500,
        description="Clears the cache tags each domain event dirties",
        fetch=Fetch.from_settings(settings),
    )
    title, about = "overlap-cache-invalidator", "Clears the cache tags events dirty"
    app = asgi_worker(broker, title, about, invalidator, [commits])
    app.after_shutdown(producer.stop)
    return app
