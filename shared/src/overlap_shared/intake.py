"""The first step of every worker: read a batch's envelopes, park what cannot be read,
skip what does not concern the worker, decode the bodies it needs, count it all.

A worker states its :class:`Interest`: the types it acts on and, of those, the ones whose
body it reads. A record is then, in this order:

* **skipped** when its ``type`` (found by ``codec.peek_type``, a plain JSON parse) is
  known but not one the worker acts on: nothing more is read of it, so a malformed
  message of such a type is not this group's to report;
* **dead-lettered** when it has no type this catalogue knows, repeats a key, or its
  envelope (or, for the types whose body is wanted, its body) is invalid;
* **read** otherwise: an :class:`Inbound` with its head and, when asked for, its body.

The envelopes of a batch are validated in one pydantic call (``codec.read_heads``) and
the wanted bodies in another (``codec.decode_all``). Every
dead letter of every worker goes through :meth:`Intake.park`: one counter
(``worker_dead_lettered_total{group,reason}``), one log line.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic

from prometheus_client import Counter

from overlap_shared.codec import (
    AnyHead,
    Catalogue,
    Head,
    M,
    MalformedMessage,
    MessageError,
    UnknownMessage,
    check_duplicates,
    decode_all,
    decode_with,
    peek_type,
    read_heads,
)
from overlap_shared.dead_letters import Record, dead_letter, reason
from overlap_shared.producer import ReplaceableProducer

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
    the whole message (then also its ``head``: a message has every envelope field)."""

    record: Record
    head: AnyHead
    message: M | None = None


class Intake(Generic[M]):
    """Reads batches of one topic for one consumer group."""

    def __init__(self, producer: ReplaceableProducer, group: str, interest: Interest[M]) -> None:
        self.producer, self.group, self.interest = producer, group, interest
        self._skipped = interest.catalogue.types - interest.types
        self._counts = {o: MESSAGES.labels(group, o) for o in ("read", "skipped")}

    async def read(self, batch: Sequence[Record]) -> list[Inbound[M]]:
        """The records of ``batch`` the worker acts on, in order; the rest parked or
        skipped. Raises only when a dead letter cannot be published."""
        acted: list[tuple[Record, str]] = []
        for record in batch:
            kind, obj = peek_type(record.value)
            if kind in self._skipped:
                continue
            try:
                if kind is None or kind not in self.interest.types:
                    raise _refusal(self.interest.catalogue, record.value)
                check_duplicates(record.value or b"", obj)
            except MessageError as exc:
                await self.park(record, exc)
                continue
            acted.append((record, kind))
        if len(batch) > len(acted):
            self._counts["skipped"].inc(len(batch) - len(acted))
        inbound = await self._validated(acted)
        self._counts["read"].inc(len(inbound))
        return inbound

    async def _validated(self, acted: list[tuple[Record, str]]) -> list[Inbound[M]]:
        """Whole messages where the body is wanted, envelopes elsewhere: one pydantic
        call for each kind; a record that fails its validation is parked."""
        cat, bodies = self.interest.catalogue, self.interest.bodies
        full = [r for r, kind in acted if kind in bodies]
        lean = [r for r, kind in acted if kind not in bodies]
        decoded = decode_all(cat, [r.value or b"" for r in full])
        heads = read_heads(cat, [r.value or b"" for r in lean])
        done: dict[int, M | Head | MessageError] = {}
        done.update(zip(map(id, full), decoded, strict=True))
        done.update(zip(map(id, lean), heads, strict=True))
        inbound: list[Inbound[M]] = []
        for record, _ in acted:
            outcome = done[id(record)]
            if isinstance(outcome, MessageError):
                await self.park(record, outcome)
            elif isinstance(outcome, Head):
                inbound.append(Inbound(record, outcome))
            else:  # a whole message is its own envelope
                inbound.append(Inbound(record, outcome, outcome))
        return inbound

    async def park(
        self, record: Record, error: BaseException, kind: str = "", attempts: int = 0
    ) -> None:
        """Copy ``record`` to the group's dead-letter topic with ``error`` (and the number
        of ``attempts``, for a record that failed to process), count and log it."""
        kind = kind or ("unknown" if isinstance(error, UnknownMessage) else "malformed")
        why = reason(error)
        extra = {"attempts": str(attempts)} if attempts else {}
        await dead_letter(self.producer, self.group, record, why, extra)
        DEAD_LETTERED.labels(self.group, kind).inc()
        MESSAGES.labels(self.group, "dead_lettered").inc()
        where = f"{record.topic}/{record.partition}@{record.offset}"
        log.warning("%s: dead-lettered %s (%s): %s", self.group, where, kind, why)


def _refusal(catalogue: Catalogue[Any], raw: bytes | None) -> MessageError:
    """Why a record with no type this catalogue knows is refused, in :func:`decode`'s
    words (it always refuses one: the union needs a known ``type``)."""
    try:
        decode_with(catalogue, raw)
    except MessageError as exc:
        return exc
    return MalformedMessage("no known type")  # unreachable while the union is tagged
