"""The notifier: turns view refreshes and event changes into Pusher events, coalesced per
channel and sent in batches (DESIGN §5 "Notify").

It consumes two topics, each a :class:`Feed` in the worker shape of
``overlap_shared.consumer``: the intake dead-letters per topic (``<topic>.dlt.<group>``)
every record it cannot read, reads envelopes only, and skips the types that do not
concern pages (``plan``); ``plan.plan_updates`` turns the rest into updates, and
``Feed.apply`` hands them to the :class:`~overlap_notifier.dispatcher.Dispatcher` without
waiting for Pusher. A record's offset is committed only once it is settled (``commits``):
the cost per update follows the Pusher calls, not the messages. Updates that cannot be
delivered before the deadline are dead-lettered too (``dispatcher.py``).

Where FastStream's idiom does not fit: its acknowledgement is per batch and on return,
so the subscribers use ``AckPolicy.MANUAL`` and ``commits`` commits settled offsets.
"""

import asyncio
import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.middlewares import AckPolicy
from overlap_shared import codec
from overlap_shared.consumer import Consumer, PoisonRule
from overlap_shared.dead_letters import publish_dead_letter, records
from overlap_shared.intake import DEAD_LETTERED, Inbound, Intake, Interest
from overlap_shared.producer import ReplaceableProducer, kafka_producer
from overlap_shared.redis_client import create_redis
from overlap_shared.settings import PusherSettings
from overlap_shared.topics import dead_letter_topic
from overlap_shared.worker import Fetch, asgi_worker, batch_subscriber, create_broker

from overlap_notifier.commits import Tracker, commit_loop
from overlap_notifier.dispatcher import DeliveryConfig, Dispatcher, Pending
from overlap_notifier.plan import DOMAIN_EVENT_NAMES, VIEW_EVENT_NAMES, Plan, plan_updates
from overlap_notifier.pusher_http import PusherSender
from overlap_notifier.settings import Settings


class Notifier:
    """The resources both feeds share, opened on start-up: Redis, the Pusher sender,
    the dispatcher and the commit loop."""

    def __init__(
        self, settings: Settings, producer: ReplaceableProducer, pusher: PusherSettings
    ) -> None:
        self.settings, self.producer, self.pusher = settings, producer, pusher
        self.group = settings.consumer_groups()["notifier"]
        self.trackers: list[Tracker] = []

    async def open(self) -> None:
        s = self.settings
        self.redis = create_redis(s.redis_url, cluster=s.redis_cluster)
        self.sender = PusherSender(self.pusher, s.notifier_http_timeout_s, s.notifier_concurrency)
        config = DeliveryConfig.from_settings(s)
        self.dispatcher = Dispatcher(config, self.sender, self.redis, self.dead_letter)
        self.dispatcher.start()
        every_s = s.consumer_commit_interval_ms / 1000
        self._committer = asyncio.create_task(
            commit_loop(self.trackers, every_s), name="notifier-commit"
        )

    async def before_stop(self) -> None:
        self._committer.cancel()
        for tracker in self.trackers:
            await tracker.commit()

    async def close(self) -> None:
        await self.dispatcher.stop()
        await self.sender.close()
        await self.redis.aclose()
        await self.producer.stop()

    async def dead_letter(self, update: Pending, reason: str) -> None:
        """Park an update Pusher did not take in time (its message, as consumed)."""
        key, raw = update.key, update.raw
        await publish_dead_letter(self.producer, self.group, update.topic, key, raw, reason)
        DEAD_LETTERED.labels(self.group, "undelivered").inc()


class Feed:
    """One consumed topic: the worker the shared consumer runs."""

    def __init__(
        self, notifier: Notifier, interest: Interest[Any], names: Mapping[str, str], fetch: Fetch
    ) -> None:
        self.notifier, self.interest, self.names, self.fetch = notifier, interest, names, fetch
        self.tracker = Tracker()
        notifier.trackers.append(self.tracker)

    def plan(self, inbound: Sequence[Inbound[Any]]) -> Plan:
        return plan_updates(inbound, self.names, time.monotonic())

    async def apply(self, plan: Plan) -> None:
        waiters = self.notifier.dispatcher.submit([update for _, update in plan])
        for (record, _), waiter in zip(plan, waiters, strict=True):
            waiter.add_done_callback(self.tracker.claim(record).settle)

    async def probe(self) -> None:
        """Nothing to probe: ``apply`` only queues (Pusher failures are the dispatcher's)."""

    async def handle(self, msg: KafkaMessage, consumer: Consumer[Any, Plan]) -> None:
        """One batch: track its records, run them through the consumer, settle what it
        did not hand over, wait while too many records are unsettled, then linger."""
        batch = records(msg)
        self.tracker.consumer = getattr(msg, "consumer", None)
        self.tracker.register(batch)
        try:
            await consumer.process(batch)
        except Exception:
            await msg.nack()  # rewind: the batch comes again
            raise
        self.tracker.settle_unclaimed()
        while self.tracker.unsettled > self.notifier.settings.notifier_max_unsettled:
            await asyncio.sleep(0.05)
            await self.tracker.commit()
        await self.fetch.linger()


def subscribe(broker: KafkaBroker, topic: str, feed: Feed, description: str) -> None:
    notifier = feed.notifier
    rule = PoisonRule.from_settings(notifier.settings)
    consumer = Consumer(Intake(notifier.producer, notifier.group, feed.interest), feed, rule)
    max_records = notifier.settings.notifier_max_records
    manual = AckPolicy.MANUAL  # commits.Tracker commits settled offsets

    @batch_subscriber(
        broker,
        topic,
        notifier.group,
        max_records=max_records,
        description=description,
        fetch=feed.fetch,
        ack_policy=manual,
    )
    async def on_batch(msg: KafkaMessage) -> None:
        await feed.handle(msg, consumer)

    broker.publisher(
        dead_letter_topic(topic, notifier.group),
        title=f"to_dead_letter_{topic}",
        description="Messages the notifier could not decode or deliver (header `error`).",
    )


def domain_fetch(settings: Settings) -> Fetch:
    """The domain topic's fetch: it is mostly availability changes, which the notifier
    skips, so it is polled and read less often than the views topic (its own page events
    are rare and not on the write → websocket path)."""
    return dataclasses.replace(
        Fetch.from_settings(settings),
        poll_ms=settings.notifier_domain_poll_ms,
        linger_ms=settings.notifier_domain_linger_ms,
    )


def create_app(settings: Settings, pusher: PusherSettings | None = None) -> AsgiFastStream:
    broker = create_broker(settings, "notifier")
    producer = kafka_producer(settings, "notifier")  # for dead letters
    notifier = Notifier(settings, producer, pusher or PusherSettings())
    views = Interest(codec.VIEWS, frozenset(VIEW_EVENT_NAMES))
    domain = Interest(codec.DOMAIN, frozenset(DOMAIN_EVENT_NAMES))
    fetch = Fetch.from_settings(settings)
    rare = domain_fetch(settings)
    subscribe(
        broker,
        settings.views_topic,
        Feed(notifier, views, VIEW_EVENT_NAMES, fetch),
        "ViewRefreshed → view.updated {version, heatmap?} on private-event-<id>",
    )
    subscribe(
        broker,
        settings.domain_topic,
        Feed(notifier, domain, DOMAIN_EVENT_NAMES, rare),
        "EventUpdated/EventFinalized → event.updated, EventDeleted → event.deleted",
    )
    app = asgi_worker(broker, "overlap-notifier", "Coalesces and batches Pusher updates", notifier)
    app.on_shutdown(notifier.before_stop)
    return app
