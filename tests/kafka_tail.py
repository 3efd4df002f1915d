"""Read what reached a Kafka topic since a point in time (tests only)."""

import asyncio
import contextlib
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from overlap_shared import events


class Tail:
    """Remember the topic's end offsets now; later read everything written after them."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.start: dict[TopicPartition, int] = {}

    async def mark(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([self.topic])
        finally:
            await admin.close()
        parts = [TopicPartition(self.topic, p["partition"]) for p in described["partitions"]]
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            self.start = await consumer.end_offsets(parts)
        finally:
            await consumer.stop()

    async def collect(
        self, done: Callable[[list[events.DomainEvent]], bool], timeout_s: float = 60
    ) -> list[events.DomainEvent]:
        """Messages since ``mark()``, in partition order, until ``done(messages)``."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        got: list[events.DomainEvent] = []
        try:
            consumer.assign(list(self.start))
            for tp, offset in self.start.items():
                consumer.seek(tp, offset)
            async with asyncio.timeout(timeout_s):
                while not done(got):
                    batch = await consumer.getmany(timeout_ms=200)
                    for records in batch.values():
                        got.extend(events.decode(r.value) for r in records if r.value)
        finally:
            with contextlib.suppress(asyncio.CancelledError):  # aiokafka, stopped right away
                await consumer.stop()
        return got
