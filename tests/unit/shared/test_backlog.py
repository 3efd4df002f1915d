"""How far Kafka is ahead of a consumed batch (``worker.backlog``): a worker skips its
linger when a full next batch is there already."""

from types import SimpleNamespace

from aiokafka import TopicPartition
from overlap_shared.worker import backlog, known_highwater

from tests.unit.records import record


def test_the_backlog_is_what_the_highwater_holds_past_the_batchs_last_offset() -> None:
    batch = [record(b"a", offset=7), record(b"b", offset=9), record(b"c", offset=8)]
    assert backlog(batch, lambda tp: 10) == 0  # offsets 7-9 taken: nothing after them
    assert backlog(batch, lambda tp: 25) == 15


def test_the_backlog_adds_up_the_batchs_partitions() -> None:
    batch = [record(b"a", offset=4, topic="one"), record(b"b", offset=2, topic="two")]
    highwater = {TopicPartition("one", 3): 10, TopicPartition("two", 3): 3}
    assert backlog(batch, highwater.get) == 5  # 5 after offset 4, none after offset 2


def test_an_unknown_highwater_counts_as_no_backlog() -> None:
    assert backlog([record(b"a", offset=4)], lambda tp: None) == 0
    assert backlog([], lambda tp: 100) == 0


def test_a_partition_the_consumer_no_longer_holds_has_no_highwater() -> None:
    held, gone = TopicPartition("t", 0), TopicPartition("t", 1)

    def highwater(tp: TopicPartition) -> int:
        assert tp == held, "Partition is not assigned"  # as aiokafka's consumer does
        return 42

    kafka = SimpleNamespace(assignment=lambda: {held}, highwater=highwater)
    of = known_highwater(kafka)
    assert (of(held), of(gone)) == (42, None)
