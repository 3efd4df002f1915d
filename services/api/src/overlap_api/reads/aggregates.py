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

The rows an aggregate was built from are held as plain tuples by the participant id's int
(``Inputs``), not as snapshot objects: once a collection has seen them, a dict of ints and
tuples of str, bytes and datetimes is no longer tracked by Python's cyclic garbage collector,
whereas a few hundred snapshot and UUID objects per held event were walked by every full
collection. Building them costs no hashing (a tuple per row).
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from overlap_shared.aggregate import GridChanged, ViewAggregate
from overlap_shared.lru import Lru
from overlap_shared.view import EventSnapshot, ParticipantSnapshot

from overlap_api.reads.metrics import REBUILDS

MB = 1024 * 1024


# The fields a participant's part of the view is built from (name, both levels, join time).
Row = tuple[str, bytes, bytes, datetime | None]
Inputs = dict[int, Row]  # by participant id (``UUID.int``)


def row_of(p: ParticipantSnapshot) -> Row:
    return (p.name, p.available, p.if_needed, p.created_at)


def inputs_of(people: list[ParticipantSnapshot]) -> Inputs:
    return {p.id.int: row_of(p) for p in people}


@dataclass
class Held:
    """One event's aggregate and the rows it was built from."""

    aggregate: ViewAggregate
    inputs: Inputs


def build(event: EventSnapshot, people: list[ParticipantSnapshot], retention_days: int) -> Held:
    """A full rebuild, kept with its inputs."""
    aggregate = ViewAggregate.build(event, people, retention_days=retention_days)
    return Held(aggregate, inputs_of(people))


def refresh(held: Held, event: EventSnapshot, people: list[ParticipantSnapshot]) -> bool:
    """Bring ``held`` to this snapshot by deltas; False (``held`` then unusable) when a full
    rebuild is due: a new grid, a participant's join time changed, or too many changes."""
    by_id = {p.id.int: p for p in people}  # one row per id, the last one (as the view)
    latest = {pid: row_of(p) for pid, p in by_id.items()}
    gone = [pid for pid in held.inputs if pid not in latest]
    changed = [p for pid, p in by_id.items() if held.inputs.get(pid) != latest[pid]]
    if len(gone) + len(changed) > max(8, len(people) // 4):
        return False  # a rebuild is cheaper than this many deltas
    joined = ((held.inputs.get(p.id.int), p.created_at) for p in changed)
    if any(old is not None and old[3] != now for old, now in joined):
        return False  # its place in the view's order moved
    try:
        held.aggregate.set_event(event)
    except GridChanged:
        return False
    for pid in gone:
        held.aggregate.remove(str(UUID(int=pid)))
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
        rows = sum(len(row[1]) + len(row[2]) for row in held.inputs.values())
        size = held.aggregate.nbytes + rows
        if size > self.max_bytes:  # never held (also: a budget of 0 turns this off)
            return
        self._held.put(event_id, held)
        self._sizes[event_id] = size
        while self.held_bytes > self.max_bytes:
            oldest = self._held.oldest()
            self._held.pop(oldest)
            self._sizes.pop(oldest, None)
