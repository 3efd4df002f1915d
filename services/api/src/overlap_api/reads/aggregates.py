"""The view aggregates of the events this API process rebuilt lately, so that the next
rebuild of the same event costs what changed, not the event's size.

A read with ``min_version`` right after a write (a writer reading its own write) finds the
view in Redis older than it needs and rebuilds it from PostgreSQL. For the large event
(300 participants x 5,952 slots) a full build and render is 12-13 ms of CPU; the snapshot
read is the same each time, but almost all of it is unchanged since this process's last
rebuild. So the process keeps the ``ViewAggregate`` it built, with the participants it was
built from, and applies the difference to the next snapshot as deltas (the availability
worker's own path, ``ViewAggregate.upsert``/``remove``/``set_event``, whose bytes the
property tests hold equal to a full rebuild). A new grid, a joiner's unknown order, or
many changes at once rebuild in full. Held aggregates are bounded by
``VIEW_AGGREGATE_MEMORY_MB`` (least recently used dropped first; 0 turns this off).

The rows an aggregate was built from are held as fingerprints (``Inputs``: bytes by bytes),
not as snapshots: a dict of bytes is invisible to Python's cyclic garbage collector, whereas
a few hundred snapshot objects per held event made each full collection walk them all.
"""

import hashlib
from dataclasses import dataclass
from uuid import UUID

from overlap_shared.aggregate import GridChanged, ViewAggregate
from overlap_shared.lru import Lru
from overlap_shared.view import EventSnapshot, ParticipantSnapshot

from overlap_api.reads.metrics import REBUILDS

MB = 1024 * 1024


DIGEST_BYTES = 16
# Participant id (16 bytes) -> fingerprint: a digest of name and levels, then the join time.
Inputs = dict[bytes, bytes]


def fingerprint(p: ParticipantSnapshot) -> bytes:
    """What a participant's part of the view is built from, in a few bytes: a digest of its
    name and both levels (length-prefixed), then its join time (its place in the order)."""
    digest = hashlib.blake2b(digest_size=DIGEST_BYTES)
    for part in (p.name.encode(), p.available, p.if_needed):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    joined = p.created_at.isoformat().encode() if p.created_at is not None else b""
    return digest.digest() + joined


def inputs_of(people: list[ParticipantSnapshot]) -> Inputs:
    return {p.id.bytes: fingerprint(p) for p in people}


@dataclass
class Held:
    """One event's aggregate and the fingerprints of the rows it was built from."""

    aggregate: ViewAggregate
    inputs: Inputs


def build(event: EventSnapshot, people: list[ParticipantSnapshot], retention_days: int) -> Held:
    """A full rebuild, kept with its inputs."""
    aggregate = ViewAggregate.build(event, people, retention_days=retention_days)
    return Held(aggregate, inputs_of(people))


def refresh(held: Held, event: EventSnapshot, people: list[ParticipantSnapshot]) -> bool:
    """Bring ``held`` to this snapshot by deltas; False (``held`` then unusable) when a full
    rebuild is due: a new grid, a participant's join time changed, or too many changes."""
    latest = inputs_of(people)
    gone = [pid for pid in held.inputs if pid not in latest]
    changed = [p for p in people if held.inputs.get(p.id.bytes) != latest[p.id.bytes]]
    if len(gone) + len(changed) > max(8, len(people) // 4):
        return False  # a rebuild is cheaper than this many deltas
    known = ((held.inputs.get(p.id.bytes), latest[p.id.bytes]) for p in changed)
    if any(old is not None and old[DIGEST_BYTES:] != new[DIGEST_BYTES:] for old, new in known):
        return False  # its place in the view's order moved
    try:
        held.aggregate.set_event(event)
    except GridChanged:
        return False
    for pid in gone:
        held.aggregate.remove(str(UUID(bytes=pid)))
    for p in changed:
        held.aggregate.upsert(p)
    held.inputs = latest
    return True


class RecentAggregates:
    """Aggregates by event id within a memory budget (LRU); ``render`` is the view."""

    def __init__(self, max_bytes: int, retention_days: int) -> None:
        self.max_bytes, self.retention_days = max_bytes, retention_days
        self._held: Lru[UUID, Held] = Lru()
        self._sizes: dict[UUID, int] = {}

    def render(self, event: EventSnapshot, people: list[ParticipantSnapshot]) -> bytes:
        """The view's bytes of this snapshot (a delta on the held aggregate when it can)."""
        held = self._held.pop(event.id)  # held again only once this render went through
        self._sizes.pop(event.id, None)
        if held is not None and refresh(held, event, people):
            REBUILDS.labels("delta").inc()
        else:
            held = build(event, people, self.retention_days)
            REBUILDS.labels("full").inc()
        data = held.aggregate.render()
        self._keep(event.id, held)
        return data

    def aggregate_of(self, event_id: UUID) -> ViewAggregate | None:
        held = self._held.get(event_id)
        return held.aggregate if held is not None else None

    @property
    def held_bytes(self) -> int:
        return sum(self._sizes.values())

    def _keep(self, event_id: UUID, held: Held) -> None:
        rows = sum(len(pid) + len(mark) for pid, mark in held.inputs.items())
        size = held.aggregate.nbytes + rows
        if size > self.max_bytes:  # never held (also: a budget of 0 turns this off)
            return
        self._held.put(event_id, held)
        self._sizes[event_id] = size
        while self.held_bytes > self.max_bytes:
            oldest = self._held.oldest()
            self._held.pop(oldest)
            self._sizes.pop(oldest, None)
