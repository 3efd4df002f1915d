"""The notifier: coalesces view updates per channel and sends them to Pusher in batches."""

import logging

from faststream.asgi import AsgiFastStream
from faststream.middlewares import AckPolicy
from overlap_shared.topics import NOTIFIER_GROUP
from overlap_shared.worker import asgi_worker, create_broker
from prometheus_client import Counter

from overlap_notifier.settings import Settings

log = logging.getLogger(__name__)
MESSAGES = Counter("notifier_messages_total", "Messages consumed")


def create_app(settings: Settings) -> AsgiFastStream:
    broker = create_broker(settings, "notifier")

    @broker.subscriber(
        settings.domain_topic,
        settings.views_topic,
        group_id=NOTIFIER_GROUP,
        batch=True,
        max_records=500,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        title="on_updates",
    )
    async def on_updates(body: list[bytes]) -> None:
        MESSAGES.inc(len(body))

    return asgi_worker(broker, "overlap-notifier", "Batches Pusher updates")
