"""The relay's waits on the real broker and PostgreSQL: the coalescing after a wake-up and
the linger after a batch put the rows of many writes in one batch; a stream of writes
sends the relay no NOTIFYs; the backoff after a failed batch holds while writes keep coming."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from tests.conftest import Services
from tests.integration.conftest import Api
from tests.integration.test_outbox_relay import _backlog, _outbox_count
from tests.kafka_tail import Tail


@pytest.fixture
async def tail(services: Services, api: Api) -> Tail:
    t = Tail(services.kafka_bootstrap_servers, api.resources.settings.domain_topic)
    await t.mark()
    return t


def _counting_relay(api: Api, config: Any) -> tuple[Any, list[int]]:
    """A relay of the test's own and the sizes of the batches it sends (empty ones left out)."""
    from overlap_api.writes.relay import KafkaPublisher, OutboxRelay

    settings = api.resources.settings
    relay = OutboxRelay(
        lambda: KafkaPublisher(settings, "relay-test"), settings.database_url, config
    )
    batches: list[int] = []
    claim = relay.relay_once

    async def counted(conn: Any) -> int:
        sent = await claim(conn)
        if sent:
            batches.append(sent)
        return sent

    relay.relay_once = counted  # type: ignore[method-assign]
    return relay, batches


async def _active_and_drained(api: Api) -> None:
    """Until the relay leads and the rows other tests left are out."""
    from prometheus_client import REGISTRY

    async with asyncio.timeout(60):
        while REGISTRY.get_sample_value("outbox_relay_leader") != 1 or await _outbox_count(api):
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(api: Api, relay: Any) -> AsyncIterator[None]:
    """The relay running and leading, the rows other tests left sent; stopped on leaving."""
    await _outbox_count(api)
    task = asyncio.create_task(relay.run())
    try:
        await _active_and_drained(api)
        yield
    finally:
        relay.stop()
        await asyncio.wait_for(task, 15)


async def test_a_burst_of_notifies_is_one_batch(api: Api, tail: Tail) -> None:
    """A wake-up waits ``coalesce_s`` before it claims: rows committed one by one within
    that time (each with its NOTIFY) go out together, not one batch each."""
    from overlap_api.writes.relay import RelayConfig

    relay, batches = _counting_relay(api, RelayConfig(coalesce_s=3.0))  # > ten small commits
    async with running(api, relay):
        batches.clear()
        ids: set[uuid.UUID] = set()
        for _ in range(10):  # ten transactions, ten NOTIFYs
            ids |= await _backlog(api, 1)
        await tail.collect(lambda g: ids <= {m.id for m in g}, timeout_s=30)
    assert sum(batches) == 10 and len(batches) <= 2, batches


async def test_the_rows_of_a_linger_go_in_the_next_batch(api: Api, tail: Tail) -> None:
    """After a batch that sent rows the relay pauses ``linger_s`` (NOTIFYs do not end it):
    rows committed one by one meanwhile go out as one batch when it ends, and a lone write
    to an idle relay is not held back by it (its batch comes first, alone)."""
    from overlap_api.writes.relay import RelayConfig

    relay, batches = _counting_relay(api, RelayConfig(linger_s=3.0))  # > five small commits
    async with running(api, relay):
        batches.clear()
        first = await _backlog(api, 1)
        await tail.collect(lambda g: first <= {m.id for m in g}, timeout_s=30)
        ids: set[uuid.UUID] = set()
        for _ in range(5):  # five transactions, five NOTIFYs, within the linger
            ids |= await _backlog(api, 1)
        await tail.collect(lambda g: ids <= {m.id for m in g}, timeout_s=30)
    assert batches == [1, 5], batches


async def test_a_stream_of_writes_sends_the_relay_no_notifies(api: Api, tail: Tail) -> None:
    """While writes keep coming the relay claims after each linger without LISTENing: of
    thirty writes 0.1 s apart only the first few NOTIFYs reach it. When the stream ends it
    LISTENs again, so a lone write then goes out on its NOTIFY, long before the poll."""
    from overlap_api.writes.relay import KafkaPublisher, OutboxRelay, RelayConfig

    notified: list[float] = []

    class Counting(OutboxRelay):
        def _notified(self, *args: object) -> None:
            notified.append(time.monotonic())
            super()._notified(*args)

    settings = api.resources.settings
    config = RelayConfig(linger_s=0.3, poll_interval_s=30.0)
    relay = Counting(lambda: KafkaPublisher(settings, "relay-test"), settings.database_url, config)
    async with running(api, relay):
        notified.clear()
        ids: set[uuid.UUID] = set()
        for _ in range(30):  # thirty transactions, thirty NOTIFYs
            ids |= await _backlog(api, 1)
            await asyncio.sleep(0.1)
        in_stream = len(notified)
        await tail.collect(lambda g: ids <= {m.id for m in g}, timeout_s=30)
        async with asyncio.timeout(10):  # a claim found none: it LISTENs again
            while not relay.listening:
                await asyncio.sleep(0.05)
        sent = time.monotonic()
        lone = await _backlog(api, 1)
        await tail.collect(lambda g: lone <= {m.id for m in g}, timeout_s=30)
        took = time.monotonic() - sent
    assert 1 <= in_stream <= 12, notified
    assert took < 15, took  # on its NOTIFY, not at the 30 s poll


async def test_writes_do_not_end_the_backoff_of_a_failing_relay(api: Api) -> None:
    """While publishing fails, the relay retries once per backoff: the NOTIFY of each write
    meanwhile only marks that rows wait, it does not start another attempt."""
    from overlap_api.writes.relay import OutboxRelay, Publisher, RelayConfig

    attempts: list[float] = []

    class Down:
        async def connect(self) -> None: ...

        async def stop(self) -> None: ...

        async def publish(self, *_: object, **__: object) -> None:
            attempts.append(asyncio.get_running_loop().time())
            raise RuntimeError("Kafka is down (simulated)")

    config = RelayConfig(retry_backoff_s=4.0, max_backoff_s=4.0, reconnect_after_failures=1000)
    relay = OutboxRelay(
        lambda: cast(Publisher, Down()), api.resources.settings.database_url, config
    )
    await _outbox_count(api)
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(60):
            while not attempts:  # the first attempt: the rows other tests left, or ours
                await _backlog(api, 1)
                await asyncio.sleep(0.1)
        first = attempts[0]
        for _ in range(20):  # twenty transactions, twenty NOTIFYs, within the backoff
            await _backlog(api, 1)
            await asyncio.sleep(0.1)
        during = [t for t in attempts if t - first < 3.5]
    finally:
        relay.stop()
        await asyncio.wait_for(task, 15)
    assert len(during) == 1, attempts
