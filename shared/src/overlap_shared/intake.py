"""The first step of every worker: read a batch's envelopes, park what cannot be read,
skip what does not concern the worker, decode the bodies it needs, count it all.

A worker states its :class:`Interest`: the types it acts on and, of those, the ones whose
body it reads. A record is then, in this order:

* **dead-lettered** when its envelope cannot be read (``codec.read_head``: malformed,
  unknown type or schema version, duplicate keys), or when a body it needs is invalid;
* **skipped** when its type is known but not one the worker acts on (its body is never
  parsed, so a malformed body of such a type is not this group's to report);
* **read** otherwise: an :class:`Inbound` with its head and, when asked for, its body.

Bodies of one batch are validated in one pydantic call (``codec.decode_all``). Every
dead letter of every worker goes through :meth:`Intake.park`: one counter
(``worker_dead_lettered_total{group,reason}``), one log line.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic

from faststream.kafka import KafkaBroker
from prometheus_client import Counter

from overlap_shared.codec import (
    Catalogue,
    Head,
    M,
    MessageError,
    UnknownMessage,
    decode_all,
    read_head,
)
from overlap_shared.dead_letters import Record, dead_letter, reason

log = logging.getLogger(__name__)

MESSAGES = Counter(
    "worker_messages_total", "Records consumed, by what became of them", ["group", "outcome"]
)  # outcome: read | skipped | dead_lettered
DEAD_LETTERED = Counter(
    "worker_dead_lettered_total", "Records sent to a dead-letter topic", ["group", "reason"]
)  # reason: malformed | unknown | poison | undelivered


@dataclass(frozen=True)
class Interest(Generic[M]):
    """What a worker reads of one topic."""

    catalogue: Catalogue[M]
    types: frozenset[str]  # acted on; other known types are skipped after the envelope
    bodies: frozenset[str] = frozenset()  # of those, the types whose body is decoded


@dataclass(frozen=True, slots=True)
class Inbound(Generic[M]):
    """A record the worker acts on: its envelope and, if its type's body was asked for,
    the whole message."""

    record: Record
    head: Head
    message: M | None = None


class Intake(Generic[M]):
    """Reads batches of one topic for one consumer group."""

    def __init__(self, broker: KafkaBroker, group: str, interest: Interest[M]) -> None:
        self.broker, self.group, self.interest = broker, group, interest

    async def read(self, batch: Sequence[Record]) -> list[Inbound[M]]:
        """The records of ``batch`` the worker acts on, in order; the rest parked or
        skipped. Raises only when a dead letter cannot be published."""
        heads: list[tuple[Record, Head]] = []
        parked = 0
        for record in batch:
            try:
                head = read_head(self.interest.catalogue, record.value)
            except MessageError as exc:
                await self.park(record, exc)
                parked += 1
                continue
            if head.type in self.interest.types:
                heads.append((record, head))
        MESSAGES.labels(self.group, "skipped").inc(len(batch) - parked - len(heads))
        inbound = await self._with_bodies(heads)
        MESSAGES.labels(self.group, "read").inc(len(inbound))
        return inbound

    async def _with_bodies(self, heads: list[tuple[Record, Head]]) -> list[Inbound[M]]:
        wanted = [i for i, (_, head) in enumerate(heads) if head.type in self.interest.bodies]
        values = [heads[i][0].value or b"" for i in wanted]
        bodies = dict(zip(wanted, decode_all(self.interest.catalogue, values), strict=True))
        inbound: list[Inbound[M]] = []
        for i, (record, head) in enumerate(heads):
            body = bodies.get(i)
            if isinstance(body, MessageError):
                await self.park(record, body)
                continue
            inbound.append(Inbound(record, head, body))
        return inbound

    async def park(
        self, record: Record, error: BaseException, kind: str = "", attempts: int = 0
    ) -> None:
        """Copy ``record`` to the group's dead-letter topic with ``error`` (and the number
        of ``attempts``, for a record that failed to process), count and log it."""
        kind = kind or ("unknown" if isinstance(error, UnknownMessage) else "malformed")
        why = reason(error)
        extra = {"attempts": str(attempts)} if attempts else {}
        await dead_letter(self.broker, self.group, record, why, extra)
        DEAD_LETTERED.labels(self.group, kind).inc()
        MESSAGES.labels(self.group, "dead_lettered").inc()
        where = f"{record.topic}/{record.partition}@{record.offset}"
        log.warning("%s: dead-lettered %s (%s): %s", self.group, where, kind, why)
