"""Snapshots: an event and its participants as read from PostgreSQL, and the event's
public fields.  Every view builder (the engine, the oracle, the API's answers) starts here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol, cast

from overlap_shared.retention import expires_at
from overlap_shared.slots import Kind, SlotGrid, format_hhmm, utc_iso

__all__ = ["EventSnapshot", "ParticipantSnapshot", "event_public", "grid_of"]


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
        return grid_of(self)


@dataclass(frozen=True, slots=True)
class ParticipantSnapshot:
    id: uuid.UUID
    name: str
    available: bytes
    if_needed: bytes
    # When the participant joined: with the id, the order of the view's participants.
    created_at: datetime | None = None


class GridFields(Protocol):
    """An event's grid fields, as a snapshot or a row of the events table holds them."""

    @property
    def kind(self) -> str: ...
    @property
    def dates(self) -> Sequence[date] | None: ...
    @property
    def weekdays(self) -> Sequence[str] | None: ...
    @property
    def day_start(self) -> int: ...
    @property
    def day_end(self) -> int: ...
    @property
    def slot_minutes(self) -> int: ...
    @property
    def timezone(self) -> str: ...


def grid_of(event: GridFields) -> SlotGrid:
    """The slot grid of anything with an event's grid fields (a snapshot, a row of the events
    table); raises ``SlotGridError`` if they are invalid."""
    return _grid(
        event.kind,
        tuple(event.dates) if event.dates is not None else None,
        tuple(event.weekdays) if event.weekdays is not None else None,
        event.day_start,
        event.day_end,
        event.slot_minutes,
        event.timezone,
    )


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
