"""A consumer's offsets committed together every ``CONSUMER_COMMIT_INTERVAL_MS``, not per batch.

At a low rate every message is a batch of its own, and committing after each one costs
every worker a Kafka round trip per message (and the broker a write to
``__consumer_offsets``). :class:`OffsetCommits` notes the offsets of each processed batch
and commits what it holds once the interval has passed since the first of them. Delivery
stays at least once: an offset is committed only after its record was processed; a worker
that dies replays what it processed since its last commit (replays are harmless: every
worker's writes are versioned or idempotent); the offsets held are committed before the
partitions go to another consumer (``on_partitions_revoked``), and from the moment the
worker starts stopping (:meth:`OffsetCommits.close`) each batch is committed as soon as it
is processed.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from overlap_shared.dead_letters import Record

log = logging.getLogger(__name__)


def next_offsets(held: dict[TopicPartition, int], batch: Sequence[Record]) -> None:
    """Raise ``held`` to the offset after each record of ``batch``, per partition (pure)."""
    for record in batch:
        tp = TopicPartition(record.topic, record.partition)
        held[tp] = max(held.get(tp, 0), record.offset + 1)


class OffsetCommits(ConsumerRebalanceListener):
    """The processed offsets of one subscriber, committed every ``interval_s`` (0: at once)."""

    def __init__(self, group: str, interval_s: float) -> None:
        self.group, self.interval_s = group, interval_s
        self.consumer: Any = None  # the subscriber's AIOKafkaConsumer, from its messages
        self.held: dict[TopicPartition, int] = {}
        self.lock = asyncio.Lock()
        self._flush: asyncio.Task[None] | None = None

    async def processed(self, consumer: Any, batch: Sequence[Record]) -> None:
        """Note that ``batch`` was processed; commit now or schedule the commit."""
        self.consumer = consumer
        next_offsets(self.held, batch)
        if self.interval_s <= 0:
            await self.commit()
        elif self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._later(), name=f"commit-{self.group}")

    async def _later(self) -> None:
        await asyncio.sleep(self.interval_s)
        await self.commit()

    async def commit(self, only: Iterable[TopicPartition] | None = None) -> None:
        """Commit the offsets held (of the partitions ``only``, when given) that this
        consumer still owns; the others' new owner replays them. An offset whose commit
        fails is kept for the next commit."""
        async with self.lock:
            if self.consumer is None or not self.held:
                return
            owned = set(self.consumer.assignment())
            for tp in [tp for tp in self.held if tp not in owned]:
                del self.held[tp]
            wanted = owned if only is None else owned & set(only)
            offsets = {tp: o for tp, o in self.held.items() if tp in wanted}
            if not offsets:
                return
            try:
                await self.consumer.commit(offsets)
            except Exception as exc:  # a rebalance or an outage: retried, or replayed
                log.warning("%s: offset commit failed (%s)", self.group, exc)
                return
            for tp, offset in offsets.items():
                if self.held.get(tp) == offset:
                    del self.held[tp]

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.commit(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Nothing to do: the group's committed offsets are where reading starts."""

    async def close(self) -> None:
        """Commit what is held; from now on every batch is committed once processed."""
        self.interval_s = 0
        if self._flush is not None:
            self._flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush
        await self.commit()
