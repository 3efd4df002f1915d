"""The shared Kafka producer: replaced at once when an error leaves it unusable, after a
run of other failures otherwise, and the failing publish still raises (an outage)."""

import asyncio
from collections.abc import Awaitable

import pytest
from aiokafka.errors import KafkaTimeoutError, OutOfOrderSequenceNumber, UnknownProducerId
from overlap_shared.producer import Outgoing, ReplaceableProducer, typed_headers
from prometheus_client import REGISTRY


class FakePublisher:
    """Acknowledges every record unless told to fail the next ones."""

    def __init__(self, number: int, failures: list[BaseException] | None = None) -> None:
        self.number, self.failures = number, list(failures or [])
        self.sent: list[Outgoing] = []
        self.connected = self.stopped = False

    async def connect(self) -> None:
        self.connected = True

    async def stop(self) -> None:
        self.stopped = True

    async def publish(self, record: Outgoing) -> Awaitable[object]:
        ack: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if self.failures:
            ack.set_exception(self.failures.pop(0))
        else:
            self.sent.append(record)
            ack.set_result(None)
        return ack


class Factory:
    """Makes publishers; the first ones fail as scripted in ``plans``."""

    def __init__(self, *plans: list[BaseException]) -> None:
        self.plans, self.made = list(plans), list[FakePublisher]()

    def __call__(self) -> FakePublisher:
        plan = self.plans.pop(0) if self.plans else []
        self.made.append(FakePublisher(len(self.made), plan))
        return self.made[-1]


def replaced(client: str, why: str) -> float:
    labels = {"client": client, "why": why}
    return REGISTRY.get_sample_value("kafka_producer_replaced_total", labels) or 0.0


async def test_out_of_order_sequence_replaces_the_producer_at_once() -> None:
    factory = Factory([OutOfOrderSequenceNumber()])
    producer = ReplaceableProducer(factory, "test-oos", replace_after_failures=3)
    before = replaced("test-oos", "unusable")
    with pytest.raises(OutOfOrderSequenceNumber):
        await producer.publish(b"v1", "views", key=b"k")
    assert factory.made[0].stopped and producer.publisher is None
    await producer.publish(b"v1", "views", key=b"k", headers=typed_headers("ViewRefreshed"))
    first, second = factory.made
    assert first.sent == [] and second.connected and not second.stopped
    assert second.sent == [Outgoing("views", b"v1", b"k", typed_headers("ViewRefreshed"))]
    assert replaced("test-oos", "unusable") == before + 1


@pytest.mark.parametrize("error", [UnknownProducerId(), OutOfOrderSequenceNumber()])
async def test_every_unusable_error_replaces_on_the_first_failure(error: Exception) -> None:
    factory = Factory([error])
    producer = ReplaceableProducer(factory, "test-unusable", replace_after_failures=100)
    with pytest.raises(type(error)):
        await producer.publish(b"v", "t")
    assert producer.publisher is None and factory.made[0].stopped


async def test_other_failures_replace_after_a_run_of_them() -> None:
    factory = Factory([KafkaTimeoutError()] * 5)
    producer = ReplaceableProducer(factory, "test-run", replace_after_failures=3)
    before = replaced("test-run", "failures")
    for _ in range(2):
        with pytest.raises(KafkaTimeoutError):
            await producer.publish(b"v", "t")
    assert len(factory.made) == 1 and not factory.made[0].stopped  # kept so far
    with pytest.raises(KafkaTimeoutError):
        await producer.publish(b"v", "t")
    assert factory.made[0].stopped and producer.publisher is None
    assert replaced("test-run", "failures") == before + 1
    await producer.publish(b"v", "t")
    assert len(factory.made) == 2 and len(factory.made[1].sent) == 1


async def test_a_success_resets_the_run() -> None:
    factory = Factory([KafkaTimeoutError(), KafkaTimeoutError()])
    producer = ReplaceableProducer(factory, "test-reset", replace_after_failures=3)
    with pytest.raises(KafkaTimeoutError):
        await producer.publish(b"v", "t")
    with pytest.raises(KafkaTimeoutError):
        await producer.publish(b"v", "t")
    await producer.publish(b"v", "t")
    assert producer.failures == 0
    factory.made[0].failures = [KafkaTimeoutError(), KafkaTimeoutError()]
    for _ in range(2):
        with pytest.raises(KafkaTimeoutError):
            await producer.publish(b"v", "t")
    assert len(factory.made) == 1 and not factory.made[0].stopped


async def test_a_batch_is_sent_in_order_and_fails_as_a_whole() -> None:
    factory = Factory([])
    producer = ReplaceableProducer(factory, "test-batch")
    records = [Outgoing("t", bytes([n]), b"k") for n in range(5)]
    await producer.publish_all(records)
    assert factory.made[0].sent == records
    factory.made[0].failures = [OutOfOrderSequenceNumber()]
    with pytest.raises(OutOfOrderSequenceNumber):
        await producer.publish_all(records)
    await producer.publish_all(records)  # the retry of the same batch, on a new producer
    assert factory.made[1].sent == records


async def test_a_producer_that_cannot_connect_is_stopped_and_tried_again() -> None:
    class Unreachable(FakePublisher):
        async def connect(self) -> None:
            raise KafkaTimeoutError()

    made: list[FakePublisher] = []

    def new_publisher() -> FakePublisher:
        made.append((Unreachable if not made else FakePublisher)(len(made)))
        return made[-1]

    producer = ReplaceableProducer(new_publisher, "test-connect")
    with pytest.raises(KafkaTimeoutError):
        await producer.publish(b"v", "t")
    assert made[0].stopped and producer.publisher is None
    await producer.publish(b"v", "t")
    assert len(made) == 2 and len(made[1].sent) == 1


async def test_concurrent_failures_of_one_producer_replace_it_once() -> None:
    factory = Factory([OutOfOrderSequenceNumber(), OutOfOrderSequenceNumber()])
    producer = ReplaceableProducer(factory, "test-concurrent")
    first = await producer._current()  # both publishes go through this one
    results = await asyncio.gather(
        producer.publish(b"a", "t"), producer.publish(b"b", "t"), return_exceptions=True
    )
    assert all(isinstance(r, OutOfOrderSequenceNumber) for r in results)
    assert first is factory.made[0] and producer.publisher is None
    await producer.publish(b"c", "t")
    await producer.publish(b"d", "t")
    assert len(factory.made) == 2 and [r.value for r in factory.made[1].sent] == [b"c", b"d"]


async def test_stop_stops_the_current_producer() -> None:
    factory = Factory([])
    producer = ReplaceableProducer(factory, "test-stop")
    await producer.publish(b"v", "t")
    await producer.stop()
    assert factory.made[0].stopped and producer.publisher is None
