"""Commit-after-delivery bookkeeping: a batch's records are tracked in order, the ones a
feed hands over are settled by their delivery, the rest at once."""

import asyncio

import pytest
from aiokafka import TopicPartition
from overlap_notifier.commits import Tracker, commit_loop
from overlap_notifier.settings import Settings
from overlap_shared.settings import WorkerSettings
from pydantic import ValidationError

from tests.unit.records import record


def test_claimed_records_wait_for_delivery_and_the_rest_settle_at_once() -> None:
    tracker = Tracker()
    batch = [record(b"a", offset=10), record(b"b", offset=11), record(b"c", offset=12)]
    tracker.register(batch)
    waiting = tracker.claim(batch[1])
    assert tracker.claim(batch[1]) is waiting  # handed over again (a retry): the same entry
    tracker.settle_unclaimed()
    assert tracker.unsettled == 1
    assert set(tracker.committable().values()) == {11}  # up to the first unsettled record
    waiting.settle()
    assert set(tracker.committable().values()) == {13}


class _Consumer:
    """An aiokafka consumer as the tracker uses it: its assignment and its commits."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))


async def test_the_loop_commits_settled_offsets_on_its_interval_and_only_what_moved() -> None:
    tracker = Tracker()
    tracker.consumer = consumer = _Consumer({TopicPartition("domain", 3)})
    tracker.register([record(b"a", offset=10), record(b"b", offset=11)])
    tracker.settle_unclaimed()
    loop = asyncio.create_task(commit_loop([tracker], every_s=0.01))
    try:
        for _ in range(100):
            await asyncio.sleep(0.01)
            if consumer.commits:
                break
        await asyncio.sleep(0.05)  # several more intervals, nothing new settled
    finally:
        loop.cancel()
    assert consumer.commits == [{TopicPartition("domain", 3): 12}]


def test_the_notifier_commits_on_the_workers_cadence_and_at_least_every_10_ms() -> None:
    shared = WorkerSettings.model_fields["consumer_commit_interval_ms"].default
    assert Settings().consumer_commit_interval_ms == shared
    with pytest.raises(ValidationError):
        Settings(consumer_commit_interval_ms=0)
