"""The monitor's consumer lag: committed offsets read through a broker that is still making
its offsets topic, and the lag figure of a group."""

import pytest
from aiokafka import OffsetAndMetadata, TopicPartition
from aiokafka.errors import GroupAuthorizationFailedError, GroupCoordinatorNotAvailableError
from overlap_api.ops.monitor import committed_offsets, group_lag

DOMAIN, VIEWS, OTHER = "overlap.domain.v1", "overlap.views.v1", "someone.else"


class FreshBroker:
    """Answers COORDINATOR_NOT_AVAILABLE ``busy`` times (a fresh broker creating its offsets
    topic), then the group's offsets."""

    def __init__(self, busy: int, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        self.busy, self.offsets, self.asked = busy, offsets, 0

    async def list_consumer_group_offsets(
        self, group_id: str
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        self.asked += 1
        if self.asked <= self.busy:
            raise GroupCoordinatorNotAvailableError(f"no coordinator for {group_id} yet")
        return self.offsets


class Refusing:
    async def list_consumer_group_offsets(
        self, group_id: str
    ) -> dict[TopicPartition, OffsetAndMetadata]:
        raise GroupAuthorizationFailedError(group_id)


async def test_committed_offsets_wait_for_the_coordinator_and_keep_our_topics() -> None:
    broker = FreshBroker(
        busy=2,
        offsets={
            TopicPartition(DOMAIN, 0): OffsetAndMetadata(7, ""),
            TopicPartition(VIEWS, 3): OffsetAndMetadata(2, ""),
            TopicPartition(OTHER, 0): OffsetAndMetadata(99, ""),
        },
    )
    got = await committed_offsets(broker, "availability", {DOMAIN, VIEWS})
    assert got == {TopicPartition(DOMAIN, 0): 7, TopicPartition(VIEWS, 3): 2}
    assert broker.asked == 3


async def test_committed_offsets_raise_what_asking_again_cannot_mend() -> None:
    with pytest.raises(GroupAuthorizationFailedError):
        await committed_offsets(Refusing(), "notifier", {DOMAIN})


def test_group_lag_sums_what_is_past_each_committed_offset() -> None:
    a, b = TopicPartition(DOMAIN, 0), TopicPartition(DOMAIN, 1)
    assert group_lag({a: 7, b: 5}, {a: 10, b: 5}) == {"lag": 3, "partitions": 2}
    assert group_lag({}, {}) == {"lag": 0, "partitions": 0}
    # an end offset read before the commit landed never makes the lag negative
    assert group_lag({a: 12}, {a: 10}) == {"lag": 0, "partitions": 1}
