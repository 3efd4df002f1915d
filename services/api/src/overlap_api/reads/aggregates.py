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

A writer reading its own write needs no snapshot at all when this process made every
write since the held version (``writes.own_writes``): :meth:`RecentAggregates.advance`
applies them to the held aggregate as the same deltas.
"""

import dataclasses

from overlap_shared.aggregate import ViewAggregate
from overlap_shared.held import Held, apply, build, refresh
from overlap_shared.lru import Lru
from overlap_shared.view import EventSnapshot, ParticipantSnapshot

from overlap_api.reads.metrics import REBUILDS
from overlap_api.writes.own_writes import OwnWrite, OwnWrites

MB = 1024 * 1024

__all__ = ["MB", "RecentAggregates", "build"]


def apply_own(held: Held, write: OwnWrite) -> bool:
    """Bring ``held`` (at ``write.version - 1``) to ``write.version``; False (``held`` then
    unusable) when the writer is not among its participants."""
    row = held.inputs.get(write.participant_id.int)
    if row is None:
        return False
    event = held.aggregate.event
    event = dataclasses.replace(event, version=write.version, updated_at=write.updated_at)
    name, _, _, joined = row
    person = ParticipantSnapshot(
        write.participant_id, name, write.available, write.if_needed, joined
    )
    return apply(held, event, [person], [])


class RecentAggregates:
    """Aggregates by event token within a memory budget (LRU); ``render`` is the view."""

    def __init__(self, max_bytes: int, retention_days: int) -> None:
        self.max_bytes, self.retention_days = max_bytes, retention_days
        self._held: Lru[str, Held] = Lru()
        self._sizes: dict[str, int] = {}

    def render(self, event: EventSnapshot, people: list[ParticipantSnapshot]) -> bytes:
        """The view's bytes of this snapshot (a delta on the held aggregate when it can)."""
        held = self._take(event.token)  # held again only once this render went through
        if held is not None and refresh(held, event, people):
            REBUILDS.labels("delta").inc()
        else:
            held = build(event, people, self.retention_days)
            REBUILDS.labels("full").inc()
        data = held.aggregate.render()
        self._keep(event.token, held)
        return data

    def advance(self, token: str, version: int, writes: OwnWrites) -> tuple[int, bytes] | None:
        """The view at ``version`` or newer, and its version, from the held aggregate and
        this process's own writes since (no snapshot); None when they do not reach it."""
        held = self._held.get(token)
        chain = writes.between(token, held.aggregate.version, version) if held else None
        if held is None or chain is None:
            return None
        self._take(token)
        if not all(apply_own(held, write) for write in chain):
            return None
        REBUILDS.labels("own").inc()
        data = held.aggregate.render()
        self._keep(token, held)
        return held.aggregate.version, data

    def aggregate_of(self, token: str) -> ViewAggregate | None:
        held = self._held.get(token)
        return held.aggregate if held is not None else None

    @property
    def held_bytes(self) -> int:
        return sum(self._sizes.values())

    def _take(self, token: str) -> Held | None:
        """The held aggregate, no longer held (a failed update must not leave it half done)."""
        self._sizes.pop(token, None)
        return self._held.pop(token)

    def _keep(self, token: str, held: Held) -> None:
        size = held.nbytes
        if size > self.max_bytes:  # never held (also: a budget of 0 turns this off)
            return
        self._held.put(token, held)
        self._sizes[token] = size
        while self.held_bytes > self.max_bytes:
            oldest = self._held.oldest()
            self._held.pop(oldest)
            self._sizes.pop(oldest, None)
