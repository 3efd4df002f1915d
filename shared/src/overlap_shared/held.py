"""A view aggregate kept with the participant rows it was built from, so that a newer
snapshot of the same event is applied as the difference, not rebuilt.

Whoever holds an event's aggregate (the availability worker; an API process after a
rebuild) often reads a snapshot that is a few versions further on than the aggregate:
under a steady stream of writes the database has moved on by the time a message is
handled. Almost all of that snapshot is unchanged, so :func:`refresh` compares it with
the rows the aggregate holds and applies only the participants that changed or left
(``ViewAggregate.upsert``/``remove``/``set_event``, whose bytes the property tests hold
equal to a full rebuild). A new grid, a participant whose join time moved, or many
changes at once need a full rebuild instead (:func:`build`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from overlap_shared.aggregate import GridChanged, ViewAggregate
from overlap_shared.snapshots import EventSnapshot, ParticipantSnapshot

__all__ = ["Held", "build", "changed_rows", "refresh"]


@dataclass
class Held:
    """One event's aggregate and, by participant id, the rows it was built from."""

    aggregate: ViewAggregate
    inputs: dict[UUID, ParticipantSnapshot]

    @property
    def nbytes(self) -> int:
        """Approximate memory: the aggregate's and the rows' bit strings."""
        rows = sum(len(p.available) + len(p.if_needed) + 200 for p in self.inputs.values())
        return self.aggregate.nbytes + rows


def build(event: EventSnapshot, people: Sequence[ParticipantSnapshot], retention_days: int) -> Held:
    """A full rebuild, kept with its inputs."""
    aggregate = ViewAggregate.build(event, people, retention_days=retention_days)
    return Held(aggregate, {p.id: p for p in people})


def changed_rows(
    inputs: dict[UUID, ParticipantSnapshot], people: Sequence[ParticipantSnapshot]
) -> tuple[list[ParticipantSnapshot], list[UUID]] | None:
    """The rows of ``people`` that differ from ``inputs`` and the ids that left; None when
    a delta cannot say it: a known participant's join time (its place in the view) moved,
    or so many changed that a full rebuild is cheaper (pure)."""
    latest = {p.id for p in people}
    gone = [pid for pid in inputs if pid not in latest]
    changed = [p for p in people if inputs.get(p.id) != p]
    if len(gone) + len(changed) > max(8, len(people) // 4):
        return None
    known = ((inputs.get(p.id), p) for p in changed)
    if any(old is not None and old.created_at != p.created_at for old, p in known):
        return None
    return changed, gone


def apply(
    held: Held,
    event: EventSnapshot,
    changed: Sequence[ParticipantSnapshot],
    gone: Sequence[UUID],
) -> bool:
    """Apply these rows (and leavers) at ``event``'s version; False (``held`` then unusable)
    when the grid changed."""
    try:
        held.aggregate.set_event(event)
    except GridChanged:
        return False
    for pid in gone:
        held.aggregate.remove(str(pid))
        held.inputs.pop(pid, None)
    for p in changed:
        held.aggregate.upsert(p)
        held.inputs[p.id] = p
    return True


def refresh(held: Held, event: EventSnapshot, people: Sequence[ParticipantSnapshot]) -> bool:
    """Bring ``held`` to this whole snapshot by deltas; False (``held`` then unusable) when a
    full rebuild is due (see :func:`changed_rows`, and a new grid)."""
    diff = changed_rows(held.inputs, people)
    return diff is not None and apply(held, event, *diff)
