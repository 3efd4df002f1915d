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

    async def raw(self, done: Callable[[list[bytes]], bool], timeout_s: float = 60) -> list[bytes]:
        """Message values since ``mark()``, in partition order, until ``done(values)``."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        got: list[bytes] = []
        try:
            consumer.assign(list(self.start))
            for tp, offset in self.start.items():
                consumer.seek(tp, offset)
            async with asyncio.timeout(timeout_s):
                while not done(got):
                    batch = await consumer.getmany(timeout_ms=200)
                    for records in batch.values():
                        got.extend(r.value for r in records if r.value is not None)
        finally:
            with contextlib.suppress(asyncio.CancelledError):  # aiokafka, stopped right away
                await consumer.stop()
        return got

    async def collect(
        self, done: Callable[[list[events.DomainEvent]], bool], timeout_s: float = 60
    ) -> list[events.DomainEvent]:
        """Decodable domain events since ``mark()`` until ``done(messages)``."""
        decoded: list[events.DomainEvent] = []

        def progress(values: list[bytes]) -> bool:
            for value in values[len(decoded_raw) :]:
                decoded_raw.append(value)
                with contextlib.suppress(events.MessageError):
                    decoded.append(events.decode(value))
            return done(decoded)

        decoded_raw: list[bytes] = []
        await self.raw(progress, timeout_s)
        return decoded


async def group_stable(bootstrap: str, group: str, members: int, timeout_s: float = 30) -> None:
    """Wait until consumer ``group`` is Stable with at least ``members`` members."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                (described,) = await admin.describe_consumer_groups([group])
                groups = getattr(described, "groups", None) or []
                group_info = groups[0] if groups else None
                if group_info is not None:
                    state, joined = group_info[2], group_info[5]
                    if state == "Stable" and len(joined) >= members:
                        return
                await asyncio.sleep(0.2)
    finally:
        await admin.close()
