"""The worker's per-event view aggregates, and how one batch's changes apply to them.

An aggregate (``overlap_shared.aggregate.ViewAggregate``) lives in this process only,
kept with the participant rows it was built from (``overlap_shared.held.Held``), keyed by
event id, least recently used dropped first beyond a memory budget.  Redis holds the
views alone; an aggregate is only ever trusted at its own version:

* a batch whose versions continue the aggregate's without a gap, and that edits no grid,
  is applied as a delta from the rows of the participants it names (one small SQL), if
  the database is still at the batch's newest version;
* otherwise the whole snapshot is read, and, when an aggregate is held and the grid is
  the same, the rows that differ from the held ones are applied as deltas (at 50
  writes/s the database is usually a few writes ahead of the batch, so this is the
  common case under load: a rebuild would redo every participant for one or two);
* a cold or evicted aggregate, a grid edit, a join time that moved, or many changes at
  once are a full rebuild.

A restart starts cold, so the first change of each event after it is a full rebuild.

Beside each aggregate the newest version this process has *published* (stored in Redis,
announced, ``ViewRefreshed`` sent) is kept: a batch at or below it has nothing new to say
(a snapshot read a few writes ahead is published at its own version, and the messages of
those writes then arrive as replays). It goes with the aggregate.
"""

from collections.abc import Collection
from uuid import UUID

from overlap_shared.aggregate import ViewAggregate
from overlap_shared.held import Held, apply
from overlap_shared.lru import Lru
from overlap_shared.view import EventSnapshot, ParticipantSnapshot

from overlap_availability.batch import EventChanges


class Aggregates:
    """Aggregates by event id, bounded by an approximate memory budget (LRU)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._held: Lru[UUID, Held] = Lru()
        self._sizes: dict[UUID, int] = {}
        self._total = 0  # sum of _sizes, kept as they change (a sum per put grew with them)
        self._published: dict[UUID, int] = {}

    def get(self, event_id: UUID) -> Held | None:
        return self._held.get(event_id)

    def put(self, event_id: UUID, held: Held) -> None:
        """Hold ``held`` (again, after a change: its size is measured here)."""
        self._held.put(event_id, held)
        size = held.nbytes  # a sum over its participants: once
        self._total += size - self._sizes.get(event_id, 0)
        self._sizes[event_id] = size
        while self.held_bytes > self.max_bytes and len(self._held) > 1:
            self.drop(self._held.oldest())

    def drop(self, event_id: UUID) -> None:
        self._held.pop(event_id)
        self._total -= self._sizes.pop(event_id, 0)
        self._published.pop(event_id, None)

    def published(self, event_id: UUID) -> int:
        """The newest version of the event's view this process has published (0: none)."""
        return self._published.get(event_id, 0)

    def mark_published(self, event_id: UUID, version: int) -> None:
        """Note that the view at ``version`` is stored and announced (if still held)."""
        if self._held.get(event_id) is not None:
            self._published[event_id] = max(version, self.published(event_id))

    @property
    def held_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._held)


def can_apply(agg: ViewAggregate | None, changes: EventChanges) -> bool:
    """A delta from the named participants may follow: the aggregate is there, no grid
    edit, no version missing."""
    return agg is not None and not changes.full and changes.follows(agg.version)


def apply_delta(
    held: Held,
    event: EventSnapshot,
    rows: Collection[ParticipantSnapshot],
    touched: Collection[UUID],
) -> bool:
    """Bring ``held`` to ``event``'s version from the touched participants' current rows
    (a touched id without a row left or was removed).  False when the grid changed: the
    aggregate is then unusable and a full rebuild must follow."""
    found = {p.id for p in rows}
    return apply(held, event, list(rows), [pid for pid in touched if pid not in found])
