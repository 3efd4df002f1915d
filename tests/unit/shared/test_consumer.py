"""The poison-message rule: a record that fails on its own is dead-lettered after N
attempts and the rest go on; an outage blames no record, however long it lasts."""

import uuid
from collections.abc import Sequence
from typing import Any, cast

import pytest
from overlap_shared import codec, events
from overlap_shared.consumer import Consumer, PoisonRule, is_outage
from overlap_shared.intake import Inbound, Intake, Interest
from overlap_shared.producer import ReplaceableProducer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from tests.unit.records import record
from tests.unit.shared.test_intake import Recorder

RULE = PoisonRule(max_attempts=3, first_s=0.1, longest_s=0.3)


class Worker:
    """Fails on the versions in ``poison``; ``down`` makes the probe fail too."""

    interest = Interest(codec.DOMAIN, frozenset(events.DOMAIN_EVENT_TYPES))

    def __init__(self, poison: set[int], error: Exception) -> None:
        self.poison, self.error, self.down = poison, error, False
        self.applied: list[int] = []
        self.tries = 0

    def plan(self, inbound: Sequence[Inbound[Any]]) -> list[int]:
        return [item.head.version for item in inbound]

    async def apply(self, plan: list[int]) -> None:
        self.tries += 1
        if self.poison & set(plan):
            raise self.error
        self.applied.extend(plan)

    async def probe(self) -> None:
        if self.down:
            raise RedisConnectionError("down")


def batch(*versions: int) -> list[Any]:
    def msg(v: int) -> bytes:
        data = events.EventDeletedData()
        return events.encode(
            events.EventDeleted(event_id=uuid.UUID(int=v), token="t", version=v, data=data)
        )

    return [record(msg(v), offset=v) for v in versions]


def consumer(worker: Worker) -> tuple[Consumer[Any, list[int]], Recorder, list[float]]:
    broker, slept = Recorder(), []

    async def sleep(s: float) -> None:
        slept.append(s)

    intake = Intake(cast(ReplaceableProducer, broker), "g", Worker.interest)
    return Consumer(intake, worker, RULE, sleep), broker, slept


async def test_a_poison_record_is_dead_lettered_after_n_attempts_and_the_rest_go_on() -> None:
    worker = Worker({2}, ResponseError("WRONGTYPE Operation against a key"))
    run, broker, slept = consumer(worker)
    await run.process(batch(1, 2, 3))
    assert worker.applied == [1, 3]
    ((_, topic, kwargs),) = broker.calls
    assert topic == "domain.dlt.g"
    assert kwargs["headers"]["attempts"] == "3" and kwargs["headers"]["source-offset"] == "2"
    assert kwargs["headers"]["error"].startswith("ResponseError: WRONGTYPE")
    assert slept == [0.1, 0.2]  # backoff between the attempts
    assert run.failures == {}


@pytest.mark.parametrize(
    "error", [RedisConnectionError("refused"), OSError("reset"), TimeoutError()]
)
async def test_an_outage_error_is_raised_and_blames_no_record(error: Exception) -> None:
    worker = Worker({2}, error)
    run, broker, _ = consumer(worker)
    for _ in range(10):
        with pytest.raises(type(error)):
            await run.process(batch(1, 2, 3))
    assert broker.calls == [] and run.failures == {}


async def test_a_failure_while_the_probe_fails_is_an_outage_too() -> None:
    worker = Worker({2}, ResponseError("LOADING Redis is loading the dataset"))
    worker.down = True
    run, broker, _ = consumer(worker)
    with pytest.raises(RedisConnectionError):
        await run.process(batch(1, 2))
    assert broker.calls == [] and run.failures == {}
    worker.down, worker.poison = False, set()  # it came back: all goes through
    await run.process(batch(1, 2))
    assert worker.applied == [1, 2]


def test_outage_errors_are_told_from_others() -> None:
    assert is_outage(RedisConnectionError()) and is_outage(ConnectionRefusedError())
    assert not is_outage(ResponseError("WRONGTYPE")) and not is_outage(ValueError())
    assert [RULE.delay_s(n) for n in (1, 2, 3, 9)] == [0.1, 0.2, 0.3, 0.3]
