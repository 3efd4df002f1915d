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

The rows are held as plain tuples keyed by the participant id's int (``Inputs``), not as
snapshot objects: once a collection has seen them, a dict of ints and tuples of str, bytes
and datetimes is no longer tracked by Python's cyclic garbage collector, whereas a few
hundred snapshot and UUID objects per held event were walked by every full collection.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from overlap_shared.aggregate import GridChanged, ViewAggregate
from overlap_shared.snapshots import EventSnapshot, ParticipantSnapshot

__all__ = ["Held", "Inputs", "apply", "build", "changed_rows", "inputs_of", "refresh"]

# The fields a participant's part of the view is built from (name, both levels, join time).
Row = tuple[str, bytes, bytes, datetime | None]
Inputs = dict[int, Row]  # by participant id (``UUID.int``)


def row_of(p: ParticipantSnapshot) -> Row:
    return (p.name, p.available, p.if_needed, p.created_at)


def inputs_of(people: Sequence[ParticipantSnapshot]) -> Inputs:
    return {p.id.int: row_of(p) for p in people}


@dataclass
class Held:
    """One event's aggregate and, by participant id, the rows it was built from."""

    aggregate: ViewAggregate
    inputs: Inputs

    @property
    def nbytes(self) -> int:
        """Approximate memory: the aggregate's and the rows' bit strings."""
        rows = sum(len(row[1]) + len(row[2]) + 200 for row in self.inputs.values())
        return self.aggregate.nbytes + rows


def build(event: EventSnapshot, people: Sequence[ParticipantSnapshot], retention_days: int) -> Held:
    """A full rebuild, kept with its inputs."""
    aggregate = ViewAggregate.build(event, people, retention_days=retention_days)
    return Held(aggregate, inputs_of(people))


def changed_rows(
    inputs: Inputs, people: Sequence[ParticipantSnapshot]
) -> tuple[list[ParticipantSnapshot], list[UUID]] | None:
    """The rows of ``people`` that differ from ``inputs`` and the ids that left; None when
    a delta cannot say it: a known participant's join time (its place in the view) moved,
    or so many changed that a full rebuild is cheaper (pure)."""
    by_id = {p.id.int: p for p in people}  # one row per id, the last one (as the view)
    gone = [UUID(int=pid) for pid in inputs if pid not in by_id]
    changed = [p for pid, p in by_id.items() if inputs.get(pid) != row_of(p)]
    if len(gone) + len(changed) > max(8, len(people) // 4):
        return None
    known = ((inputs.get(p.id.int), p.created_at) for p in changed)
    if any(old is not None and old[3] != joined for old, joined in known):
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
        held.inputs.pop(pid.int, None)
    for p in changed:
        held.aggregate.upsert(p)
        held.inputs[p.id.int] = row_of(p)
    return True


def refresh(held: Held, event: EventSnapshot, people: Sequence[ParticipantSnapshot]) -> bool:
    """Bring ``held`` to this whole snapshot by deltas; False (``held`` then unusable) when a
    full rebuild is due (see :func:`changed_rows`, and a new grid)."""
    diff = changed_rows(held.inputs, people)
    return diff is not None and apply(held, event, *diff)
