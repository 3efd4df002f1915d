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
The held rows are ``overlap_shared.held``'s (the availability worker holds the same shape).
"""

from uuid import UUID

from overlap_shared.aggregate import ViewAggregate
from overlap_shared.held import Held, build, refresh
from overlap_shared.lru import Lru
from overlap_shared.view import EventSnapshot, ParticipantSnapshot

from overlap_api.reads.metrics import REBUILDS

MB = 1024 * 1024

__all__ = ["MB", "RecentAggregates", "build"]


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
        size = held.nbytes
        if size > self.max_bytes:  # never held (also: a budget of 0 turns this off)
            return
        self._held.put(event_id, held)
        self._sizes[event_id] = size
        while self.held_bytes > self.max_bytes:
            oldest = self._held.oldest()
            self._held.pop(oldest)
            self._sizes.pop(oldest, None)
