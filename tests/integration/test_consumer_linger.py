"""A worker that lingers after a batch takes what arrived meanwhile in one batch: the
shared ``consume_batches`` on real Kafka, a topic and group of the test's own.

aiokafka sends the next fetch once the last one's records are taken, so while the worker
lingers at most one fetch answers (the first record after the batch); the rest wait in
Kafka and come together, one fetch and one batch, after the pause. A worker behind by a
full batch or more does not linger: the next batch is there already.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from overlap_shared.dead_letters import Record
from overlap_shared.settings import ServiceSettings
from overlap_shared.topics import ensure_topics
from overlap_shared.worker import Fetch, consume_batches, create_broker

from tests.conftest import Services

LINGER_MS = 1_500


class Recording:
    """Stands for a worker's :class:`~overlap_shared.consumer.Consumer`: notes each batch."""

    def __init__(self, group: str) -> None:
        self.intake = SimpleNamespace(group=group)
        self.batches: list[list[bytes]] = []
        self.first = asyncio.Event()

    async def process(self, batch: Sequence[Record]) -> None:
        self.batches.append([record.value or b"" for record in batch])
        self.first.set()


async def subscribed(
    services: Services, name: str, fetch: Fetch, max_records: int
) -> tuple[str, KafkaBroker, Recording]:
    """A topic of the test's own, and a broker (not started) whose ``consume_batches`` on it
    notes each batch: (topic, broker, recording)."""
    run = uuid.uuid4().hex[:10]
    topic, bootstrap = f"test.{name}.{run}", services.kafka_bootstrap_servers
    await ensure_topics(bootstrap, {topic: 1})
    broker = create_broker(ServiceSettings(kafka_bootstrap_servers=bootstrap), f"test-{name}")
    recording = Recording(f"{name}-{run}")
    consume_batches(
        broker,
        topic,
        cast(Any, recording),
        max_records=max_records,
        description="test",
        fetch=fetch,
    )
    return topic, broker, recording


async def test_records_arriving_while_the_worker_lingers_come_in_one_batch(
    services: Services,
) -> None:
    fetch = Fetch(linger_ms=LINGER_MS, wait_ms=100)
    topic, broker, recording = await subscribed(services, "linger", fetch, max_records=100)
    producer = AIOKafkaProducer(bootstrap_servers=services.kafka_bootstrap_servers)
    sent = [f"r{i}".encode() for i in range(8)]
    await producer.start()
    try:
        await broker.start()
        await producer.send_and_wait(topic, sent[0], key=b"k")
        await asyncio.wait_for(recording.first.wait(), 30)
        for value in sent[1:]:  # while the worker lingers after its first batch
            await producer.send_and_wait(topic, value, key=b"k")
        async with asyncio.timeout(30):
            while sum(len(b) for b in recording.batches) < len(sent):
                await asyncio.sleep(0.05)
    finally:
        await producer.stop()
        await broker.stop()
    assert [value for batch in recording.batches for value in batch] == sent
    # the first record; perhaps the one fetch answered during the pause; then the rest
    assert len(recording.batches) <= 3, recording.batches


@dataclass(frozen=True)
class CountedFetch(Fetch):
    """A fetch that notes each pause it takes (and takes none)."""

    lingered: list[float] = field(default_factory=list)

    async def linger(
        self, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, elapsed_s: float = 0.0
    ) -> None:
        self.lingered.append(self.linger_ms / 1000)


async def test_a_worker_behind_by_a_full_batch_does_not_linger(services: Services) -> None:
    fetch = CountedFetch(linger_ms=LINGER_MS)
    topic, broker, recording = await subscribed(services, "backlog", fetch, max_records=3)
    producer = AIOKafkaProducer(bootstrap_servers=services.kafka_bootstrap_servers)
    sent = [f"r{i}".encode() for i in range(12)]
    await producer.start()
    try:
        for value in sent:  # a backlog before the worker starts
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()
    try:
        await broker.start()
        async with asyncio.timeout(30):  # every record, and the pause after the last batch
            while sum(len(b) for b in recording.batches) < len(sent) or not fetch.lingered:
                await asyncio.sleep(0.05)
    finally:
        await broker.stop()
    assert [value for batch in recording.batches for value in batch] == sent
    # the batches with three or more records behind them went on at once, without a pause
    assert len(recording.batches) >= 4
    assert len(fetch.lingered) < len(recording.batches), (recording.batches, fetch.lingered)


async def test_a_worker_that_pauses_only_when_busy_does_not_hold_lone_records(
    services: Services,
) -> None:
    fetch = CountedFetch(linger_ms=LINGER_MS, linger_min_records=2)
    topic, broker, recording = await subscribed(services, "lone", fetch, max_records=100)
    producer = AIOKafkaProducer(bootstrap_servers=services.kafka_bootstrap_servers)
    await producer.start()
    try:
        await broker.start()
        for i in range(3):  # one at a time, each sent once the last was consumed
            await producer.send_and_wait(topic, f"r{i}".encode(), key=b"k")
            async with asyncio.timeout(30):
                while sum(len(b) for b in recording.batches) <= i:
                    await asyncio.sleep(0.02)
        await producer.send(topic, b"a", key=b"k")  # then two at once: one produce request
        await producer.send(topic, b"b", key=b"k")
        await producer.flush()
        async with asyncio.timeout(30):
            while not fetch.lingered:
                await asyncio.sleep(0.02)
    finally:
        await producer.stop()
        await broker.stop()
    assert [len(b) for b in recording.batches[:3]] == [1, 1, 1]
    assert [b"a", b"b"] in recording.batches  # the pair, one batch: the only pause
    assert len(fetch.lingered) == 1
