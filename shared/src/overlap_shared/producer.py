"""Publishing to Kafka, for the relay and every worker: one producer that replaces itself.

Every publish goes through an idempotent aiokafka producer (``enable_idempotence``,
``acks=all``): Kafka numbers its records per partition and drops a resent duplicate.
Such a producer can be left unusable for good: a broker that lost the producer's state
(killed and restarted under load, found by ``make chaos``) answers each of its later
records with ``OutOfOrderSequenceNumber`` (or ``UnknownProducerId``,
``InvalidProducerEpoch``…). :class:`ReplaceableProducer` therefore throws its producer
away at once on one of those errors (:data:`UNUSABLE`), and after
``replace_after_failures`` other failures in a row (timeouts, a broker down); the next
publish makes a fresh one (a new producer id, new sequence numbers). The failing
publish still raises: its caller treats it as an outage and publishes the same records
again later (the relay keeps its outbox rows, a worker consumes its batch again), so
nothing is lost and the order per key holds; a duplicate is harmless (every consumer
writes by version).
"""

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)
from prometheus_client import Counter

from overlap_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

UNUSABLE: Final = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    ProducerFenced,
    ProducerClosed,
)
"""Errors after which an idempotent producer never publishes again: replace it at once."""

REPLACED = Counter(
    "kafka_producer_replaced_total", "Kafka producers thrown away and made anew", ["client", "why"]
)  # why: unusable (one of UNUSABLE) | failures (a run of other failures)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to publish."""

    topic: str
    value: bytes | None
    key: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def typed_headers(message_type: str) -> dict[str, str]:
    """The headers of a message of this project's catalogue (the relay's and the views')."""
    return {"type": message_type, "content-type": "application/json"}


class Publisher(Protocol):
    """One Kafka producer (:class:`ReplaceableProducer` makes a fresh one when needed)."""

    async def connect(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, record: Outgoing) -> Awaitable[object]:
        """Queue one record; the awaitable resolves when Kafka acknowledged it."""
        ...


class KafkaPublisher:
    """aiokafka's producer, idempotent with ``acks=all``, records queued without a wait each
    (no per-message framework work: the cost per record is the producer's)."""

    def __init__(self, settings: ServiceSettings, service: str) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"overlap-{service}-{socket.gethostname()}-{os.getpid()}",
            enable_idempotence=True,
            acks="all",
            request_timeout_ms=10_000,
        )

    async def connect(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def publish(self, record: Outgoing) -> Awaitable[object]:
        headers = [(name, value.encode()) for name, value in record.headers.items()]
        return await self.producer.send(record.topic, record.value, key=record.key, headers=headers)


class ReplaceableProducer:
    """Publishes through a :class:`Publisher` made by ``new_publisher`` on first use and
    replaced as the module docstring says. Safe for concurrent publishes."""

    def __init__(
        self,
        new_publisher: Callable[[], Publisher],
        client: str,
        replace_after_failures: int = 3,
        ack_timeout_s: float = 30.0,
    ) -> None:
        self.new_publisher, self.client = new_publisher, client
        self.replace_after_failures, self.ack_timeout_s = replace_after_failures, ack_timeout_s
        self.publisher: Publisher | None = None
        self.failures = 0  # in a row, of the current publisher
        self._making = asyncio.Lock()

    async def publish(
        self,
        value: bytes | None,
        topic: str,
        *,
        key: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Publish one record and wait for Kafka's acknowledgement (raises if none)."""
        await self.publish_all([Outgoing(topic, value, key, headers or {})])

    async def publish_all(self, records: Sequence[Outgoing]) -> None:
        """Publish ``records`` in order and wait until Kafka acknowledged every one;
        raises on the first failure (after replacing the producer if it is due)."""
        publisher = await self._current()
        try:
            acks = [await publisher.publish(record) for record in records]
            async with asyncio.timeout(self.ack_timeout_s):  # no task of its own, as wait_for
                await asyncio.gather(*acks)
        except Exception as exc:
            await self._failed(publisher, exc)
            raise
        if publisher is self.publisher:
            self.failures = 0

    async def stop(self) -> None:
        """Stop the current producer, if any (a later publish makes a new one)."""
        await self._drop(self.publisher)

    async def _current(self) -> Publisher:
        async with self._making:
            if self.publisher is None:
                publisher = self.new_publisher()
                try:
                    await publisher.connect()
                except BaseException:
                    await _stop_quietly(publisher)
                    raise
                self.publisher, self.failures = publisher, 0
            return self.publisher

    async def _failed(self, publisher: Publisher, exc: Exception) -> None:
        if publisher is not self.publisher:
            return  # already replaced (a concurrent publish failed first)
        self.failures += 1
        unusable = isinstance(exc, UNUSABLE)
        if unusable or self.failures >= self.replace_after_failures:
            why = "unusable" if unusable else "failures"
            log.warning("%s: replacing the Kafka producer (%s): %r", self.client, why, exc)
            REPLACED.labels(self.client, why).inc()
            await self._drop(publisher)

    async def _drop(self, publisher: Publisher | None) -> None:
        if publisher is None or publisher is not self.publisher:
            return
        self.publisher, self.failures = None, 0
        await _stop_quietly(publisher)


async def _stop_quietly(publisher: Publisher) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(publisher.stop(), 5)


def kafka_producer(settings: ServiceSettings, service: str) -> ReplaceableProducer:
    """The producer of a worker (``service`` names it in the client id and the metric)."""
    return ReplaceableProducer(lambda: KafkaPublisher(settings, service), service)
