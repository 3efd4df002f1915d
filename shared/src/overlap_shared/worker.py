"""What every FastStream worker shares: the broker, health probes, metrics, the runner.

A worker is an ``AsgiFastStream`` app served by uvicorn, so the same process that
consumes Kafka answers ``/healthz`` (broker reachable), ``/metrics`` (Prometheus) and
``/asyncapi`` (the generated AsyncAPI document) on its own health port.
"""

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import uvicorn
from faststream.asgi import AsgiFastStream, AsyncAPIRoute, make_ping_asgi
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from faststream.specification import AsyncAPI
from prometheus_client import make_asgi_app

from overlap_shared.dead_letters import RAW_RECORDS, Record, records
from overlap_shared.logs import setup_logging
from overlap_shared.settings import ServiceSettings

# FastStream's batch subscriber polls with this timeout and, after an empty poll, sleeps
# for it again: a message arriving then waits up to this long. Keep it short.
BATCH_TIMEOUT_MS = 10


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
    """A broker whose producer is idempotent and waits for all replicas."""
    client_id = f"overlap-{service}-{socket.gethostname()}-{os.getpid()}"
    return KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),  # FastStream takes one string as one host
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=10_000,
        graceful_timeout=10.0,
    )


def consume_batches(
    broker: KafkaBroker,
    topic: str,
    group: str,
    handle: Callable[[tuple[Record, ...]], Awaitable[None]],
    *,
    max_records: int,
    description: str,
) -> None:
    """Subscribe ``handle`` to ``topic`` as ``group``: batches of raw records (bodies
    undecoded, see ``dead_letters``), offsets committed once it returns; a batch it fails
    is consumed again after a :class:`RetryPause`."""
    pause = RetryPause()

    @broker.subscriber(
        topic,
        group_id=group,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=BATCH_TIMEOUT_MS,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{group} <- {topic}",
        description=description,
        **RAW_RECORDS,
    )
    async def on_batch(message: KafkaMessage) -> None:
        async with pause.around():
            await handle(records(message))


def asgi_worker(broker: KafkaBroker, title: str, description: str) -> AsgiFastStream:
    """Wrap ``broker`` with the probe, metrics and AsyncAPI routes."""
    return AsgiFastStream(
        broker,
        asgi_routes=[
            ("/healthz", make_ping_asgi(broker, timeout=3.0)),
            ("/metrics", make_asgi_app()),
        ],
        asyncapi_path=AsyncAPIRoute("/asyncapi"),
        specification=AsyncAPI(broker, title=title, description=description),
    )


def serve(app: AsgiFastStream, settings: ServiceSettings, port: int, host: str) -> None:
    """Run a worker app under uvicorn (the worker's entry point calls this)."""
    setup_logging(settings.log_level)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
