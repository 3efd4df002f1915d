"""Commit-after-delivery: a subscriber's offsets are committed only up to the first record
not yet settled (delivered, skipped or dead-lettered), every ``CONSUMER_COMMIT_INTERVAL_MS``
(500 ms in the notifier) rather than per batch (a commit is a Kafka round trip, and at a
low rate every message is a batch of its own).

FastStream acknowledges a whole batch when its handler returns; the notifier's handler
returns before Pusher has taken the batch's updates, so its subscribers use
``AckPolicy.MANUAL`` and this module commits through the subscriber's consumer itself.
"""

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import TopicPartition
from overlap_shared.dead_letters import Record

from overlap_notifier.offsets import Entry, OffsetTracker

log = logging.getLogger(__name__)


class Tracker(OffsetTracker[TopicPartition]):
    """Offsets of one subscriber, with its consumer and what awaits committing."""

    def __init__(self) -> None:
        super().__init__()
        self.consumer: Any = None
        self.to_commit: dict[TopicPartition, int] = {}
        self.lock = asyncio.Lock()
        self._open: dict[int, Entry] = {}  # the current batch's records not yet claimed
        self._claimed: dict[int, Entry] = {}

    def register(self, batch: Sequence[Record]) -> None:
        """Track every record of a consumed batch, in order, unsettled."""
        self._open.clear()  # a failed batch's leftovers: it is consumed again
        self._claimed = {}
        for record in batch:
            tp = TopicPartition(record.topic, record.partition)
            self._open[id(record)] = self.add(tp, record.offset)

    def claim(self, record: Record) -> Entry:
        """The entry of ``record``, to be settled by whoever handles it (a record handed
        over twice, as when a batch is retried one record at a time, settles it twice)."""
        entry = self._open.pop(id(record), None)
        if entry is None:
            entry = self._claimed[id(record)]
        self._claimed[id(record)] = entry
        return entry

    def settle_unclaimed(self) -> None:
        """Settle the batch's records nobody claimed (dead-lettered or skipped)."""
        for entry in self._open.values():
            entry.settle()
        self._open.clear()

    async def commit(self) -> None:
        if self.consumer is None:
            return
        async with self.lock:
            await self._commit(self.consumer)

    async def _commit(self, consumer: Any) -> None:
        assigned = set(consumer.assignment())
        self.keep_only(assigned)
        self.to_commit.update(self.committable())
        offsets = {tp: o for tp, o in self.to_commit.items() if tp in assigned}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except Exception as exc:  # a rebalance: the partitions' new owner replays them
            log.warning("notifier: commit failed: %s", exc)
        self.to_commit.clear()


async def commit_loop(trackers: Sequence[Tracker], every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        for tracker in trackers:
            await tracker.commit()
