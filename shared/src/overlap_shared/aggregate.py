"""The view engine: one event's view held as arrays and pre-serialized fragments.

A :class:`ViewAggregate` keeps what the view is made of, so that a change costs what it
touches rather than the event's size:

* each participant's cleaned levels as a packed row (eight slots a byte) of two
  ``(capacity, bytes)`` matrices;
* each participant's part of ``"participants"`` as ready JSON bytes;
* the per-slot heat-map counts at both levels and the per-slot segment ``changes`` that
  the best-time search reads (see ``overlap_shared.best``).

:meth:`ViewAggregate.build` is the full rebuild (vectorized over all participants);
:meth:`upsert` / :meth:`remove` / :meth:`set_event` apply one change as a delta.  Rendering
concatenates the cached pieces into exactly the bytes ``orjson.dumps`` gives for the
view dict (DESIGN §3), which the property tests check against the pure-Python oracle.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from overlap_shared.best import SlotFigures, describe_blocks, rank_blocks
from overlap_shared.kernels import (
    Bools,
    Packed,
    exists_mask,
    pack_clean,
    packed_width,
    row_ranges,
    scan_changes,
    scan_level,
    slot_changes,
    unpack_rows,
)
from overlap_shared.slots import SlotGrid
from overlap_shared.snapshots import EventSnapshot, ParticipantSnapshot, event_public

__all__ = ["GridChanged", "ViewAggregate"]

_NUMPY = orjson.OPT_SERIALIZE_NUMPY
_LAST = datetime.max.replace(tzinfo=UTC)  # a participant without a join time sorts last
# (join time, id as an int): sorts as (created_at, id); plain values, so the tuples (and the
# dict of rows by id) are untracked by the cyclic garbage collector once it has seen them.
_OrderKey = tuple[datetime, int]


class GridChanged(ValueError):
    """The event's slot grid changed: the aggregate must be rebuilt in full."""


@lru_cache(maxsize=256)
def _slots_json(grid: SlotGrid) -> bytes:
    return orjson.dumps({"starts_utc": grid.starts_utc_iso(), "missing": list(grid.missing())})


@lru_cache(maxsize=256)
def _exists(grid: SlotGrid) -> Bools:
    mask = exists_mask(grid.slot_count, grid.missing())
    mask.flags.writeable = False
    return mask


def _fragment(pid: str, name: str, available: Any, if_needed: Any) -> bytes:
    """One participant's part of the view, with the comma that precedes it in the list."""
    part = {"id": pid, "name": name, "available": available, "if_needed": if_needed}
    return b"," + orjson.dumps(part, option=_NUMPY)


def _order_key(p: ParticipantSnapshot) -> _OrderKey:
    return (p.created_at or _LAST, p.id.int)


class ViewAggregate:
    """One event's view state; see the module docstring."""

    def __init__(self, event: EventSnapshot, capacity: int = 0, *, retention_days: int) -> None:
        self.event = event
        self.retention_days = retention_days  # the policy behind event.expires_at
        self.grid = event.grid
        self._event_json = orjson.dumps(event_public(event, retention_days=retention_days))
        self.exists = _exists(self.grid)
        width = self.grid.slot_count
        # Packed rows of both levels, one zero byte past the grid (the layout of ``kernels``).
        self._a = np.zeros((capacity, packed_width(width)), dtype=np.uint8)
        self._n = np.zeros((capacity, packed_width(width)), dtype=np.uint8)
        self._free = list(range(capacity - 1, -1, -1))
        self.counts_a = np.zeros(width, dtype=np.int32)
        self.counts_n = np.zeros(width, dtype=np.int32)
        self.changes = np.zeros(width, dtype=np.int32)
        self._row_of: dict[str, int] = {}  # participant id -> its row of the matrices
        self._order: list[str] = []
        self._fragments: list[bytes] = []  # in view order, like _order
        self._keys: list[_OrderKey] = []
        self._rows: tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]] | None = None

    @classmethod
    def build(
        cls,
        event: EventSnapshot,
        participants: Sequence[ParticipantSnapshot],
        *,
        retention_days: int,
    ) -> ViewAggregate:
        """The full rebuild: participants in the given (view) order."""
        agg = cls(event, retention_days=retention_days)
        agg._a, agg._n = pack_clean(
            [p.available for p in participants], [p.if_needed for p in participants], agg.exists
        )
        slot_count = agg.grid.slot_count
        scan_a, scan_n = scan_level(agg._a, slot_count), scan_level(agg._n, slot_count)
        for row, p in enumerate(participants):
            pid = str(p.id)
            agg._fragments.append(_fragment(pid, p.name, scan_a.ranges[row], scan_n.ranges[row]))
            agg._row_of[pid] = row
            agg._order.append(pid)
            agg._keys.append(_order_key(p))
        agg.counts_a, agg.counts_n = scan_a.counts, scan_n.counts
        agg.changes = scan_changes(scan_a, scan_n, slot_count)
        return agg

    @property
    def version(self) -> int:
        return self.event.version

    @property
    def participant_count(self) -> int:
        return len(self._order)

    @property
    def nbytes(self) -> int:
        """Approximate memory held (matrices and fragments)."""
        frags = sum(len(f) for f in self._fragments)
        return self._a.nbytes + self._n.nbytes + frags + 16 * self.counts_a.nbytes

    def set_event(self, event: EventSnapshot) -> None:
        """New event fields (title, status, version, ...) on the same grid."""
        if event.grid != self.grid:
            raise GridChanged(f"event {event.id} has a new slot grid")
        self.event = event
        self._event_json = orjson.dumps(event_public(event, retention_days=self.retention_days))

    def upsert(self, p: ParticipantSnapshot) -> None:
        """A participant joined, was renamed or changed availability: its new state."""
        pid = str(p.id)
        row = self._row_of.get(pid)
        if row is None:
            row = self._admit(pid, p)
        packed_a, packed_n = pack_clean([p.available], [p.if_needed], self.exists)
        slot_count = self.grid.slot_count
        new_a, new_n = unpack_rows(packed_a[0], slot_count), unpack_rows(packed_n[0], slot_count)
        self._set_row(row, (packed_a[0], packed_n[0]), (new_a, new_n))
        ranges_a, ranges_n = row_ranges(new_a), row_ranges(new_n)
        self._fragments[self._order.index(pid)] = _fragment(pid, p.name, ranges_a, ranges_n)

    def remove(self, pid: str) -> None:
        """A participant left or was removed (unknown ids are ignored)."""
        row = self._row_of.pop(pid, None)
        if row is None:
            return
        slot_count = self.grid.slot_count
        packed = np.zeros(packed_width(slot_count), dtype=np.uint8)
        bools = np.zeros(slot_count, dtype=np.bool_)
        self._set_row(row, (packed, packed), (bools, bools))
        self._free.append(row)
        index = self._order.index(pid)
        del self._order[index], self._keys[index], self._fragments[index]
        self._rows = None

    def _admit(self, pid: str, p: ParticipantSnapshot) -> int:
        """A free row and a place in the view's order for a joiner; its row."""
        if not self._free:
            self._grow()
        row = self._row_of[pid] = self._free.pop()
        key = _order_key(p)
        index = bisect.bisect_right(self._keys, key)
        self._keys.insert(index, key)
        self._order.insert(index, pid)
        self._fragments.insert(index, b"")
        self._rows = None
        return row

    def _grow(self) -> None:
        old = self._a.shape[0]
        extra = max(8, old)
        pad = np.zeros((extra, packed_width(self.grid.slot_count)), dtype=np.uint8)
        self._a = np.concatenate((self._a, pad))
        self._n = np.concatenate((self._n, pad))
        self._free.extend(range(old + extra - 1, old - 1, -1))

    def _set_row(
        self, row: int, packed: tuple[Packed, Packed], levels: tuple[Bools, Bools]
    ) -> None:
        """Replace one row (both levels, packed and as booleans); update the per-slot
        figures."""
        slot_count = self.grid.slot_count
        old_a, old_n = unpack_rows(self._a[row], slot_count), unpack_rows(self._n[row], slot_count)
        new_a, new_n = levels
        self.counts_a += new_a.astype(np.int32) - old_a
        self.counts_n += new_n.astype(np.int32) - old_n
        self.changes += slot_changes(new_a, new_n) - slot_changes(old_a, old_n)
        self._a[row], self._n[row] = packed

    def _view_rows(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
        """Rows and ids of the participants in view order (cached until someone joins or
        leaves)."""
        if self._rows is None:
            rows = [self._row_of[pid] for pid in self._order]
            self._rows = (np.asarray(rows, dtype=np.intp), np.asarray(self._order, dtype=object))
        return self._rows

    def best(
        self, min_slots: int = 1, required: Collection[str] = (), limit: int = 10
    ) -> list[dict[str, Any]]:
        """Best times (the rules of ``overlap_shared.oracle.scoring``) from the arrays."""
        if min_slots < 1:
            raise ValueError("min_slots must be at least 1")
        if not self._order or any(pid not in self._row_of for pid in required):
            return []
        allowed: Bools | None = None
        if required:
            needed = [self._row_of[pid] for pid in required]
            marked = unpack_rows(self._a[needed] | self._n[needed], self.grid.slot_count)
            allowed = np.asarray(marked.all(axis=0))
        figures = SlotFigures(
            self.grid.slots_per_day, self.exists, self.counts_a, self.counts_n, self.changes
        )
        rows, ids = self._view_rows()
        blocks = rank_blocks(figures, min_slots, limit, allowed)
        return describe_blocks(blocks, self.changes, self._a, self._n, rows, ids)

    def render(self, best_limit: int = 10) -> bytes:
        """The view's bytes: equal to ``orjson.dumps`` of the DESIGN §3 document.

        One join copies every piece once; the first fragment goes in without its comma.
        """
        parts: list[bytes | memoryview] = [
            b'{"version":%d,"event":' % self.event.version,
            self._event_json,
            b',"slots":',
            _slots_json(self.grid),
            b',"participants":[',
        ]
        parts += self._fragments
        if self._fragments:
            parts[5] = memoryview(self._fragments[0])[1:]
        parts += (
            b'],"heatmap":{"available":',
            orjson.dumps(self.counts_a, option=_NUMPY),
            b',"if_needed":',
            orjson.dumps(self.counts_n, option=_NUMPY),
            b'},"best":',
            orjson.dumps(self.best(limit=best_limit)),
            b"}",
        )
        return b"".join(parts)
