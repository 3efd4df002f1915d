"""The pure-Python view builder, kept as the oracle of the array engine.

This is the block-map code the service ran before the numpy engine: obviously correct,
O(participants x slots) in Python ints.  Property tests compare the engine's view bytes
with :func:`build_view` here; nothing in the services calls it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from overlap_shared.bitmaps import bits_to_ranges, from_bytes, full_mask, heatmap, mask_of
from overlap_shared.oracle.scoring import best_times
from overlap_shared.slots import SlotGrid
from overlap_shared.snapshots import EventSnapshot, ParticipantSnapshot, event_public

__all__ = ["build_view", "clean_bits"]


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
    """The whole view document for ``event`` with ``participants`` in the given order."""
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
