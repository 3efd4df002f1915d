"""The one shape of a worker: read → plan (pure) → apply, and the poison-message rule.

A worker is three things (:class:`Worker`): an :class:`~overlap_shared.intake.Interest`
(which records it reads), a pure ``plan`` (records → the work to do) and ``apply`` (does
that work on Redis, PostgreSQL, Kafka or Pusher), plus a ``probe`` of its dependencies.
:class:`Consumer` runs a batch through them.

**Poison messages.** When a batch fails, the failure is an *outage* if the error is one a
dependency being down raises (:func:`is_outage`: connection refused or lost, timeouts,
Kafka errors) or if the worker's probe fails right after it: then the batch is consumed
again later (the caller's ``RetryPause``) and no record is blamed, however long the
outage lasts. Otherwise the batch's records are applied one at a time; a record that still
fails while the probe succeeds is tried again with backoff
(``WORKER_RETRY_FIRST_MS`` doubling up to ``WORKER_RETRY_LONGEST_MS``), and after
``WORKER_MAX_ATTEMPTS`` such failures it goes to the group's dead-letter topic with the
headers ``error`` and ``attempts``, and the partition moves on. An outage during those
attempts stops them (the batch is consumed again, the counts kept in this process).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from aiokafka.errors import KafkaError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from overlap_shared.codec import M
from overlap_shared.dead_letters import Record
from overlap_shared.intake import Inbound, Intake, Interest
from overlap_shared.settings import WorkerSettings

log = logging.getLogger(__name__)
P = TypeVar("P")
_OUTAGE = (
    OSError,
    TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    OperationalError,
    InterfaceError,
    KafkaError,
)


class Worker(Protocol[M, P]):
    """What a worker supplies to :class:`Consumer`."""

    interest: Interest[M]

    def plan(self, inbound: Sequence[Inbound[M]]) -> P:
        """The work ``inbound`` asks for (pure: no I/O)."""
        ...

    async def apply(self, plan: P) -> None:
        """Do the work; raising leaves the records unprocessed."""
        ...

    async def probe(self) -> None:
        """Raise when a dependency of ``apply`` is down."""
        ...


def is_outage(exc: BaseException) -> bool:
    """True for errors a dependency being unreachable raises, whatever the message."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _OUTAGE)


@dataclass(frozen=True)
class PoisonRule:
    max_attempts: int = 5
    first_s: float = 0.1
    longest_s: float = 2.0

    @classmethod
    def from_settings(cls, s: WorkerSettings) -> "PoisonRule":
        first, longest = s.worker_retry_first_ms / 1000, s.worker_retry_longest_ms / 1000
        return cls(s.worker_max_attempts, first, longest)

    def delay_s(self, failures: int) -> float:
        """Wait after the ``failures``-th failure of one record."""
        return min(self.longest_s, self.first_s * 2 ** min(failures - 1, 30))


class Consumer(Generic[M, P]):
    """Runs batches of one topic through a :class:`Worker` for one group."""

    def __init__(
        self,
        intake: Intake[M],
        worker: Worker[M, P],
        rule: PoisonRule,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.intake, self.worker, self.rule, self.sleep = intake, worker, rule, sleep
        self.failures: dict[tuple[str, int, int], int] = {}  # (topic, partition, offset)

    async def process(self, batch: Sequence[Record]) -> None:
        """Read, plan and apply ``batch``; raises on an outage (consume it again later)."""
        inbound = await self.intake.read(batch)
        try:
            await self.worker.apply(self.worker.plan(inbound))
        except Exception as exc:
            await self._raise_if_outage(exc)
            log.warning("%s: a batch failed (%s); one record at a time", self.intake.group, exc)
            for item in inbound:
                await self._one(item)

    async def _one(self, item: Inbound[M]) -> None:
        """Apply one record until it succeeds, is dead-lettered, or an outage stops it."""
        record = item.record
        where = (record.topic, record.partition, record.offset)
        while True:
            try:
                await self.worker.apply(self.worker.plan([item]))
            except Exception as exc:
                await self._raise_if_outage(exc)
                failures = self.failures[where] = self.failures.get(where, 0) + 1
                if failures >= self.rule.max_attempts:
                    await self.intake.park(record, exc, "poison", failures)
                    break
                await self.sleep(self.rule.delay_s(failures))
            else:
                break
        self.failures.pop(where, None)

    async def _raise_if_outage(self, exc: Exception) -> None:
        if is_outage(exc):
            raise exc
        try:
            await self.worker.probe()
        except Exception as down:
            raise down from exc
