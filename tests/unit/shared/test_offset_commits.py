"""``OffsetCommits``: processed offsets committed together, only the owned partitions',
before a revocation, and at once from the moment the worker starts stopping."""

import asyncio

from aiokafka import ConsumerRecord, TopicPartition
from overlap_shared.dead_letters import Record
from overlap_shared.offset_commits import OffsetCommits, next_offsets

A, B = TopicPartition("domain", 0), TopicPartition("domain", 1)


def rec(tp: TopicPartition, offset: int) -> Record:
    return ConsumerRecord(
        topic=tp.topic, partition=tp.partition, offset=offset, timestamp=0, timestamp_type=0,
        key=b"k", value=b"{}", checksum=None, serialized_key_size=1, serialized_value_size=2,
        headers=[],
    )  # fmt: skip


class FakeConsumer:
    """What ``OffsetCommits`` uses of an AIOKafkaConsumer: its assignment and commit."""

    def __init__(self, *owned: TopicPartition) -> None:
        self.owned = set(owned)
        self.commits: list[dict[TopicPartition, int]] = []
        self.fail = False

    def assignment(self) -> set[TopicPartition]:
        return set(self.owned)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert set(offsets) <= self.owned  # aiokafka refuses a partition it does not own
        if self.fail:
            raise RuntimeError("the group is rebalancing")
        self.commits.append(dict(offsets))


def test_the_offset_after_each_partitions_last_record_is_held() -> None:
    held: dict[TopicPartition, int] = {A: 3}
    next_offsets(held, [rec(A, 4), rec(B, 9), rec(A, 5)])
    next_offsets(held, [rec(A, 2)])  # a replay after a rewind never lowers it
    assert held == {A: 6, B: 10}


async def test_batches_within_the_interval_are_committed_together() -> None:
    consumer, commits = FakeConsumer(A, B), OffsetCommits("g", interval_s=0.05)
    await commits.processed(consumer, [rec(A, 0)])
    await commits.processed(consumer, [rec(A, 1), rec(B, 0)])
    await commits.processed(consumer, [rec(A, 2)])
    assert consumer.commits == []  # not per batch
    await asyncio.sleep(0.2)
    assert consumer.commits == [{A: 3, B: 1}]
    assert commits.held == {}


async def test_with_no_interval_each_batch_is_committed_once_processed() -> None:
    consumer, commits = FakeConsumer(A), OffsetCommits("g", interval_s=0)
    await commits.processed(consumer, [rec(A, 0), rec(A, 1)])
    assert consumer.commits == [{A: 2}]


async def test_a_revocation_commits_the_revoked_partitions_and_keeps_the_rest() -> None:
    consumer, commits = FakeConsumer(A, B), OffsetCommits("g", interval_s=60)
    await commits.processed(consumer, [rec(A, 4), rec(B, 7)])
    await commits.on_partitions_revoked({A})
    assert consumer.commits == [{A: 5}]
    assert commits.held == {B: 8}
    await commits.close()


async def test_partitions_no_longer_owned_are_not_committed_but_dropped() -> None:
    consumer, commits = FakeConsumer(A, B), OffsetCommits("g", interval_s=60)
    await commits.processed(consumer, [rec(A, 4), rec(B, 7)])
    consumer.owned = {B}  # A went to another consumer, which replays it
    await commits.commit()
    assert consumer.commits == [{B: 8}] and commits.held == {}
    await commits.close()


async def test_an_offset_whose_commit_failed_is_committed_next_time() -> None:
    consumer, commits = FakeConsumer(A), OffsetCommits("g", interval_s=60)
    await commits.processed(consumer, [rec(A, 4)])
    consumer.fail = True
    await commits.commit()
    assert consumer.commits == [] and commits.held == {A: 5}
    consumer.fail = False
    await commits.commit()
    assert consumer.commits == [{A: 5}]
    await commits.close()


async def test_stopping_commits_what_is_held_and_every_later_batch_at_once() -> None:
    consumer, commits = FakeConsumer(A), OffsetCommits("g", interval_s=60)
    await commits.processed(consumer, [rec(A, 0)])
    await commits.close()
    assert consumer.commits == [{A: 1}]
    await commits.processed(consumer, [rec(A, 1)])  # a batch that was in flight
    assert consumer.commits == [{A: 1}, {A: 2}]
