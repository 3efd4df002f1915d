"""The notifier: turns view refreshes and event changes into Pusher events, coalesced per
channel and sent in batches (DESIGN §5 "Notify").

It consumes two topics, and dead-letters per topic (``<topic>.dlt.notifier``, headers
``error`` and ``source-topic``/``-partition``/``-offset``) every record it cannot read, then
goes on: tombstones, oversize or non-JSON values, JSON that is not an envelope, wrong field
types, and unknown types or schema versions (see ``overlap_shared.dead_letters``).

* Views topic: ``ViewRefreshed`` is the only type; anything else (a domain event included)
  is unknown there and dead-lettered.
* Domain topic: ``EventUpdated``/``EventFinalized``/``EventDeleted`` become Pusher events.
  The other known domain types are decoded (so a malformed one is dead-lettered) and then
  ignored without dead-lettering: they are valid, meant for the other groups, and pages
  learn of them through the ``ViewRefreshed`` that follows. An unknown type is
  dead-lettered.

Updates that cannot be delivered to Pusher before the deadline are dead-lettered too
(``dispatcher.py``).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiokafka import TopicPartition
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.middlewares import AckPolicy
from overlap_shared import dead_letters, events
from overlap_shared.dead_letters import RAW_RECORDS, reason, records
from overlap_shared.redis_client import create_redis
from overlap_shared.settings import PusherSettings
from overlap_shared.topics import NOTIFIER_GROUP, dead_letter_topic
from overlap_shared.worker import BATCH_TIMEOUT_MS, asgi_worker, create_broker

from overlap_notifier import metrics
from overlap_notifier.coalescer import Update
from overlap_notifier.dispatcher import DeliveryConfig, Dispatcher, Pending
from overlap_notifier.offsets import OffsetTracker
from overlap_notifier.payloads import EVENT_DELETED, EVENT_UPDATED, VIEW_UPDATED, private_channel
from overlap_notifier.pusher_http import PusherSender
from overlap_notifier.settings import Settings

log = logging.getLogger(__name__)

# Domain events a page cares about, and the Pusher event each becomes.
DOMAIN_EVENT_NAMES = {
    "EventUpdated": EVENT_UPDATED,
    "EventFinalized": EVENT_UPDATED,
    "EventDeleted": EVENT_DELETED,
}
Decoder = Callable[[bytes | None], events.Envelope]


def _update(message: events.Envelope, name: str, record: Any, now: float) -> Pending:
    return Update(
        channel=private_channel(message.event_id),
        name=name,
        version=message.version,
        token=message.token,
        occurred_at=message.occurred_at.timestamp(),
        received_at=now,
        topic=record.topic,
        raw=record.value or b"",
        key=record.key,
    )


class Notifier:
    """The consumer side: decode, dead-letter what cannot be read, hand the rest over."""

    def __init__(self, settings: Settings, broker: KafkaBroker, pusher: PusherSettings) -> None:
        self.settings, self.broker = settings, broker
        self.redis = create_redis(settings.redis_url)
        self.sender = PusherSender(
            pusher, settings.notifier_http_timeout_s, settings.notifier_concurrency
        )
        self.dispatcher = Dispatcher(
            DeliveryConfig.from_settings(settings), self.sender, self.redis, self.dead_letter
        )
        self.trackers = (Tracker(), Tracker())
        self._committer: asyncio.Task[None]

    async def dead_letter(self, update: Pending, reason: str) -> None:
        """Park an update Pusher did not take in time (its message, as consumed)."""
        await dead_letters.publish_dead_letter(
            self.broker, NOTIFIER_GROUP, update.topic, update.key, update.raw, reason
        )

    async def handle(
        self,
        msg: KafkaMessage,
        decode: Decoder,
        name_of: Callable[[events.Envelope], str | None],
        tracker: "Tracker",
    ) -> None:
        """One batch: dead-letter what cannot be read, queue the rest, and return without
        waiting for Pusher; offsets are committed as records settle (see offsets.py)."""
        try:
            tracker.consumer = getattr(msg, "consumer", None)
            batch, updates, owners = records(msg), [], []
            now = time.monotonic()
            for record in batch:
                try:
                    message = decode(record.value)  # None (a tombstone) is malformed too
                except events.MessageError as exc:
                    log.warning(
                        "notifier: dead-lettering %s/%d@%d: %s",
                        *(record.topic, record.partition, record.offset, exc),
                    )
                    await dead_letters.dead_letter(self.broker, NOTIFIER_GROUP, record, reason(exc))
                    metrics.DEAD_LETTERED.labels("undecodable").inc()
                    continue
                metrics.MESSAGES.labels(message.type).inc()
                name = name_of(message)
                if name is not None:
                    updates.append(_update(message, name, record, now))
                    owners.append(record)
        except Exception:
            await msg.nack()  # rewind: the batch comes again
            raise
        waiters = dict(zip(map(id, owners), self.dispatcher.submit(updates), strict=True))
        for record in batch:
            entry = tracker.add(TopicPartition(record.topic, record.partition), record.offset)
            waiter = waiters.get(id(record))
            if waiter is None:
                entry.settle()  # dead-lettered above, or a type pages do not care about
            else:
                waiter.add_done_callback(entry.settle)
        # Offsets are committed by commit_loop (every 0.2 s), not per batch: a commit is a
        # Kafka round trip, and at a low rate every message is a batch of its own.
        while tracker.unsettled > self.settings.notifier_max_unsettled:  # backpressure
            await asyncio.sleep(0.05)
            await self.commit(tracker)

    async def commit(self, tracker: "Tracker") -> None:
        consumer = tracker.consumer
        if consumer is None:
            return
        async with tracker.lock:
            await self._commit(tracker, consumer)

    async def _commit(self, tracker: "Tracker", consumer: Any) -> None:
        assigned = set(consumer.assignment())
        tracker.keep_only(assigned)
        tracker.to_commit.update(tracker.committable())
        offsets = {tp: o for tp, o in tracker.to_commit.items() if tp in assigned}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except Exception as exc:  # a rebalance: the partitions' new owner replays them
            log.warning("notifier: commit failed: %s", exc)
        tracker.to_commit.clear()

    async def commit_loop(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            for tracker in self.trackers:
                await self.commit(tracker)

    async def start(self) -> None:
        self.dispatcher.start()
        self._committer = asyncio.create_task(self.commit_loop(), name="notifier-commit")

    async def before_stop(self) -> None:
        self._committer.cancel()
        for tracker in self.trackers:
            await self.commit(tracker)

    async def stop(self) -> None:
        await self.dispatcher.stop()
        await self.sender.close()
        await self.redis.aclose()


class Tracker(OffsetTracker[TopicPartition]):
    """Offsets of one subscriber, with its consumer and what awaits committing."""

    def __init__(self) -> None:
        super().__init__()
        self.consumer: Any = None
        self.to_commit: dict[TopicPartition, int] = {}
        self.lock = asyncio.Lock()


def create_app(settings: Settings, pusher: PusherSettings | None = None) -> AsgiFastStream:
    broker = create_broker(settings, "notifier")
    notifier = Notifier(settings, broker, pusher or PusherSettings())
    views_offsets, domain_offsets = notifier.trackers
    common: dict[str, Any] = {
        "group_id": settings.notifier_group,
        "batch": True,
        "batch_timeout_ms": BATCH_TIMEOUT_MS,
        "max_records": settings.notifier_max_records,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.MANUAL,  # Notifier.commit commits settled offsets
        **RAW_RECORDS,
    }

    @broker.subscriber(
        settings.views_topic,
        title="on_view_refreshed",
        description="ViewRefreshed → view.updated {version, heatmap?} on private-event-<id>",
        **common,
    )
    async def on_view_refreshed(body: list[bytes], msg: KafkaMessage) -> None:
        await notifier.handle(msg, events.decode_view, lambda _: VIEW_UPDATED, views_offsets)

    @broker.subscriber(
        settings.domain_topic,
        title="on_domain_events",
        description="EventUpdated/EventFinalized → event.updated, EventDeleted → event.deleted",
        **common,
    )
    async def on_domain_events(body: list[bytes], msg: KafkaMessage) -> None:
        await notifier.handle(
            msg, events.decode, lambda m: DOMAIN_EVENT_NAMES.get(m.type), domain_offsets
        )

    for topic in (settings.views_topic, settings.domain_topic):
        broker.publisher(
            dead_letter_topic(topic, NOTIFIER_GROUP),
            title=f"to_dead_letter_{topic}",
            description="Messages the notifier could not decode or deliver (header `error`).",
        )

    app = asgi_worker(broker, "overlap-notifier", "Coalesces and batches Pusher updates")
    app.on_startup(notifier.start)
    app.on_shutdown(notifier.before_stop)
    app.after_shutdown(notifier.stop)
    return app
