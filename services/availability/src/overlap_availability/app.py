"""The availability worker: consumes domain events, precomputes event views into Redis."""

import logging

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaMessage
from faststream.middlewares import AckPolicy
from overlap_shared.topics import AVAILABILITY_GROUP
from overlap_shared.worker import asgi_worker, create_broker
from prometheus_client import Counter

from overlap_availability.settings import Settings

log = logging.getLogger(__name__)
BATCHES = Counter("availability_batches_total", "Batches consumed from the domain topic")
MESSAGES = Counter("availability_messages_total", "Domain messages consumed")


def create_app(settings: Settings) -> AsgiFastStream:
    broker = create_broker(settings, "availability")

    @broker.subscriber(
        settings.domain_topic,
        group_id=AVAILABILITY_GROUP,
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        title="on_domain_events",
    )
    async def on_domain_events(body: list[bytes], msg: KafkaMessage) -> None:
        BATCHES.inc()
        MESSAGES.inc(len(body))
        log.debug("batch of %d domain messages", len(body))

    return asgi_worker(broker, "overlap-availability", "Precomputes event views into Redis")
