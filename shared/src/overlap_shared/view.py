"""The event "view" (block map): one JSON document with everything the event page needs.

:func:`build_view` turns an event snapshot and its participants into a dict whose keys
are in the order of DESIGN §3; :func:`serialize_view` turns it into bytes with orjson.
The same input always gives identical bytes (no key sorting, no clock, no randomness),
so every reader of a version receives the same document.

Stored bitsets are read defensively: bits beyond the grid or on a missing slot are
ignored, and a slot marked at both levels counts as ``available`` only.  The rows in the
database are not changed here; remapping on a grid change is the writer's job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast

import orjson

from overlap_shared.bitmaps import bits_to_ranges, from_bytes, full_mask, heatmap, mask_of
from overlap_shared.retention import expires_at
from overlap_shared.scoring import best_times
from overlap_shared.slots import Kind, SlotGrid, format_hhmm, utc_iso

__all__ = [
    "EventSnapshot",
    "ParticipantSnapshot",
    "build_view",
    "event_public",
    "serialize_view",
]


@dataclass(frozen=True, slots=True)
class EventSnapshot:
    id: uuid.UUID
    token: str
    title: str
    description: str
    timezone: str
    kind: str
    dates: tuple[date, ...] | None
    weekdays: tuple[str, ...] | None
    day_start: int
    day_end: int
    slot_minutes: int
    status: str
    final_start: int | None
    final_end: int | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def grid(self) -> SlotGrid:
        """The event's slot grid (raises ``SlotGridError`` if the fields are invalid)."""
        return _grid(
            self.kind,
            tuple(self.dates) if self.dates is not None else None,
            tuple(self.weekdays) if self.weekdays is not None else None,
            self.day_start,
            self.day_end,
            self.slot_minutes,
            self.timezone,
        )


@dataclass(frozen=True, slots=True)
class ParticipantSnapshot:
    id: uuid.UUID
    name: str
    available: bytes
    if_needed: bytes


@lru_cache(maxsize=1024)
def _grid(
    kind: str,
    dates: tuple[date, ...] | None,
    weekdays: tuple[str, ...] | None,
    day_start: int,
    day_end: int,
    slot_minutes: int,
    timezone: str,
) -> SlotGrid:
    # SlotGrid validates ``kind`` itself.
    return SlotGrid(cast(Kind, kind), dates, weekdays, day_start, day_end, slot_minutes, timezone)


def event_public(event: EventSnapshot, *, retention_days: int) -> dict[str, Any]:
    """The view's ``"event"`` sub-document (also returned by the event write routes).
    ``expires_at`` is when the retention policy deletes the event (null when it is off)."""
    grid = event.grid
    final = None
    if event.final_start is not None and event.final_end is not None:
        final = {"start": event.final_start, "end": event.final_end}
    expiry = expires_at(event.updated_at, grid.dates, event.timezone, retention_days)
    return {
        "id": str(event.id),
        "token": event.token,
        "title": event.title,
        "description": event.description,
        "timezone": event.timezone,
        "kind": grid.kind,
        "dates": [d.isoformat() for d in grid.dates] if grid.dates is not None else None,
        "weekdays": list(grid.weekdays) if grid.weekdays is not None else None,
        "day_start": format_hhmm(grid.day_start),
        "day_end": format_hhmm(grid.day_end),
        "slot_minutes": grid.slot_minutes,
        "slots_per_day": grid.slots_per_day,
        "slot_count": grid.slot_count,
        "status": event.status,
        "final": final,
        "created_at": utc_iso(event.created_at),
        "updated_at": utc_iso(event.updated_at),
        "expires_at": utc_iso(expiry) if expiry is not None else None,
    }


def clean_bits(
    grid: SlotGrid, participants: Sequence[ParticipantSnapshot]
) -> list[tuple[str, int, int]]:
    """(id, available, if_needed) per participant, as the view counts them: bits past the
    grid or on missing slots dropped, and a slot marked at both levels only available."""
    valid = full_mask(grid.slot_count) & ~mask_of(grid.missing())
    rows = []
    for p in participants:
        a = from_bytes(p.available) & valid
        rows.append((str(p.id), a, from_bytes(p.if_needed) & valid & ~a))
    return rows


def build_view(
    event: EventSnapshot,
    participants: Sequence[ParticipantSnapshot],
    best_limit: int = 10,
    *,
    retention_days: int,
) -> dict[str, Any]:
    """The whole view document for ``event`` with ``participants`` in the given order
    (``retention_days``: the policy that sets ``event.expires_at``)."""
    grid = event.grid
    slot_count = grid.slot_count
    missing = grid.missing()
    rows = clean_bits(grid, participants)
    ids = [pid for pid, _, _ in rows]
    available = [a for _, a, _ in rows]
    if_needed = [n for _, _, n in rows]
    people: list[dict[str, Any]] = []
    for p, (pid, a, n) in zip(participants, rows, strict=True):
        people.append(
            {
                "id": pid,
                "name": p.name,
                "available": bits_to_ranges(a),
                "if_needed": bits_to_ranges(n),
            }
        )

    best = best_times(
        grid.slots_per_day,
        slot_count,
        list(zip(ids, available, if_needed, strict=True)),
        missing,
        limit=best_limit,
    )
    return {
        "version": event.version,
        "event": event_public(event, retention_days=retention_days),
        "slots": {"starts_utc": grid.starts_utc_iso(), "missing": list(missing)},
        "participants": people,
        "heatmap": {
            "available": heatmap(available, slot_count),
            "if_needed": heatmap(if_needed, slot_count),
        },
        "best": best,
    }


def serialize_view(view: dict[str, Any]) -> bytes:
    """The view as compact JSON bytes, keys in insertion order (deterministic)."""
    return orjson.dumps(view)
