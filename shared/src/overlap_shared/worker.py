"""What every FastStream worker shares: the broker, health probes, metrics, the runner.

A worker is an ``AsgiFastStream`` app served by uvicorn, so the same process that
consumes Kafka answers ``/healthz`` (broker reachable), ``/metrics`` (Prometheus) and
``/asyncapi`` (the generated AsyncAPI document) on its own health port.
"""

import asyncio
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import uvicorn
from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from faststream.asgi import AsgiFastStream, AsyncAPIRoute, make_ping_asgi
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.middlewares import AckPolicy
from faststream.specification import AsyncAPI
from prometheus_client import make_asgi_app

from overlap_shared import gc_pauses
from overlap_shared.consumer import Consumer
from overlap_shared.dead_letters import RAW_RECORDS, Record, records
from overlap_shared.logs import setup_logging
from overlap_shared.offset_commits import OffsetCommits
from overlap_shared.settings import ServiceSettings, WorkerSettings


@dataclass(frozen=True)
class Fetch:
    """How a consumer fetches and commits: Kafka answers a fetch once it holds
    ``min_bytes`` for it or after ``wait_ms``; processed offsets are committed together
    every ``commit_interval_ms`` (``offset_commits``; 0: after each batch).

    FastStream's batch poll waits ``poll_ms`` for records and sleeps as long after an
    empty one: each poll is a wake-up of the worker, idle or not. After each batch the
    consumer pauses ``linger_ms`` (:meth:`linger`): aiokafka sends the next fetch only
    once the records of the last one are taken, so what arrives meanwhile comes in one
    fetch and one batch; a record arriving to an idle consumer is not delayed. With
    ``linger_from_start`` the pause counts from the batch's start (at most one batch per
    ``linger_ms``); there is none after a batch smaller than ``linger_min_records``."""

    min_bytes: int = 1
    wait_ms: int = 500
    commit_interval_ms: int = 0
    poll_ms: int = 10
    linger_ms: int = 0
    linger_from_start: bool = False
    linger_min_records: int = 1  # no pause after a smaller batch

    @classmethod
    def from_settings(cls, s: WorkerSettings) -> "Fetch":
        wait, every = s.consumer_fetch_wait_ms, s.consumer_commit_interval_ms
        poll, linger = s.consumer_poll_ms, s.consumer_linger_ms
        return cls(s.consumer_fetch_min_bytes, wait, every, poll, linger)

    def pauses_after(self, records: int, behind: int, max_records: int) -> bool:
        """Whether a batch of ``records`` is followed by :meth:`linger`: not when it was
        smaller than ``linger_min_records``, nor when Kafka already holds a full next
        batch (``behind``, at least ``max_records``): a pause could only delay it."""
        return records >= self.linger_min_records and behind < max_records

    async def linger(
        self, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, elapsed_s: float = 0.0
    ) -> None:
        """The pause after a batch that took ``elapsed_s`` (none when ``linger_ms`` is 0).
        With ``linger_from_start`` the pause counts from the batch's start: batches come
        at most once per ``linger_ms``, and a batch that took that long has no pause."""
        pause = self.linger_ms / 1000 - (elapsed_s if self.linger_from_start else 0.0)
        if pause > 0:
            await sleep(pause)


class RetryPause:
    """Waits before a failed batch is consumed again: ``first_s``, doubling up to
    ``longest_s``, back to ``first_s`` after a success. Without it an outage of PostgreSQL
    or Redis is a hot loop of re-polls, each logging a traceback (found by ``make chaos``).
    """

    def __init__(
        self,
        first_s: float = 0.1,
        longest_s: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.first_s, self.longest_s, self.sleep = first_s, longest_s, sleep
        self.delay_s = first_s

    @asynccontextmanager
    async def around(self) -> AsyncIterator[None]:
        try:
            yield
        except Exception:
            await self.sleep(self.delay_s)
            self.delay_s = min(self.longest_s, self.delay_s * 2)
            raise
        self.delay_s = self.first_s


def create_broker(settings: ServiceSettings, service: str) -> KafkaBroker:
    """A broker whose producer is idempotent and waits for all replicas.

    Its handlers get the decoded body alone (``apply_types=False``: with the workers'
    decoder, the message itself): FastDepends' injection of a ``KafkaMessage`` parameter
    ran in a thread per batch, the largest part of an idle worker's cost per message.
    FastStream's "Received"/"Processed" lines per batch are logged at DEBUG."""
    client_id = f"overlap-{service}-{socket.gethostname()}-{os.getpid()}"
    return KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),  # FastStream takes one string as one host
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=10_000,
        graceful_timeout=10.0,
        apply_types=False,
        log_level=logging.DEBUG,
    )


def batch_subscriber(
    broker: KafkaBroker,
    topic: str,
    group: str,
    *,
    max_records: int,
    description: str,
    fetch: Fetch,
    ack_policy: AckPolicy = AckPolicy.NACK_ON_ERROR,
    listener: ConsumerRebalanceListener | None = None,
) -> Any:
    """The subscriber decorator every worker uses: batches of raw records (bodies
    undecoded, see ``dead_letters``), read from the earliest offset for a new group."""
    return broker.subscriber(
        topic,
        group_id=group,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=fetch.poll_ms,
        fetch_min_bytes=fetch.min_bytes,
        fetch_max_wait_ms=fetch.wait_ms,
        auto_offset_reset="earliest",
        ack_policy=ack_policy,
        listener=listener,
        title=f"{group} <- {topic}",
        description=description,
        **RAW_RECORDS,
    )


def consume_batches(
    broker: KafkaBroker,
    topic: str,
    consumer: Consumer[Any, Any],
    *,
    max_records: int,
    description: str,
    fetch: Fetch,
) -> OffsetCommits:
    """Subscribe ``consumer`` to ``topic`` as its group: a processed batch's offsets are
    committed with the others of ``fetch.commit_interval_ms`` (the returned
    :class:`OffsetCommits`: give it to :func:`asgi_worker`); a batch that fails (an
    outage, see ``consumer``) is consumed again after a :class:`RetryPause`; a batch
    done is followed by the pause of :meth:`Fetch.linger`, unless it held fewer than
    ``fetch.linger_min_records`` or Kafka already holds a full next batch (:func:`backlog`)."""
    pause = RetryPause()
    group = consumer.intake.group
    commits = OffsetCommits(group, fetch.commit_interval_ms / 1000)

    @batch_subscriber(
        broker, topic, group, max_records=max_records, description=description, fetch=fetch,
        ack_policy=AckPolicy.MANUAL, listener=commits,
    )  # fmt: skip
    async def on_batch(message: KafkaMessage) -> None:
        batch, started = records(message), time.monotonic()
        async with pause.around():
            try:
                await consumer.process(batch)
            except Exception:
                await message.nack()  # back to the batch's first records
                raise
        kafka = getattr(message, "consumer", None)
        await commits.processed(kafka, batch)
        behind = 0 if kafka is None else backlog(batch, known_highwater(kafka))
        if fetch.pauses_after(len(batch), behind, max_records):
            await fetch.linger(elapsed_s=time.monotonic() - started)

    return commits


def backlog(batch: Sequence[Record], highwater: Callable[[TopicPartition], int | None]) -> int:
    """How many records Kafka held after this batch in its partitions, by the highwater
    of the consumer's last fetch of each (pure)."""
    last: dict[TopicPartition, int] = {}
    for record in batch:
        tp = TopicPartition(record.topic, record.partition)
        last[tp] = max(record.offset, last.get(tp, -1))
    return sum(max(0, (highwater(tp) or 0) - offset - 1) for tp, offset in last.items())


def known_highwater(kafka: Any) -> Callable[[TopicPartition], int | None]:
    """The aiokafka consumer's last known highwater of a partition; None for one it no
    longer holds (a rebalance during the batch: its ``highwater`` asserts it is held)."""
    held = kafka.assignment()
    return lambda tp: kafka.highwater(tp) if tp in held else None


class Resources(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...


def asgi_worker(
    broker: KafkaBroker,
    title: str,
    description: str,
    resources: Resources,
    commits: Sequence[OffsetCommits] = (),
) -> AsgiFastStream:
    """Wrap ``broker`` with the probe, metrics and AsyncAPI routes; ``resources`` are
    opened before the subscribers start (FastStream's ``on_startup``) and closed after
    they have stopped (``after_shutdown``); ``commits`` commit what they hold when the
    worker starts stopping (``on_shutdown``, before the subscribers stop)."""
    app = AsgiFastStream(
        broker,
        asgi_routes=[
            ("/healthz", make_ping_asgi(broker, timeout=3.0)),
            ("/metrics", make_asgi_app()),
        ],
        asyncapi_path=AsyncAPIRoute("/asyncapi"),
        specification=AsyncAPI(broker, title=title, description=description),
    )
    app.on_startup(resources.open)
    app.after_startup(_settle_gc)
    for held in commits:
        app.on_shutdown(held.close)
    app.after_shutdown(resources.close)
    return app


async def _settle_gc() -> None:
    """Once the worker is up: its start-up objects out of every later collection."""
    gc_pauses.watch()
    gc_pauses.settle()


def serve(app: AsgiFastStream, settings: ServiceSettings, port: int, host: str) -> None:
    """Run a worker app under uvicorn (the worker's entry point calls this)."""
    setup_logging(settings.log_level)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
