"""Events and participants as the view engine and the export read them (snapshots built in
memory), for the unit tests of the view, the oracle and the CSV export."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from overlap_shared.bitmaps import ranges_to_bits, to_bytes
from overlap_shared.view import EventSnapshot, ParticipantSnapshot

CREATED = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def event_snapshot(**changes: Any) -> EventSnapshot:
    """Two dates across New York's spring-forward night, 01:00-04:00 in 30-minute slots."""
    fields: dict[str, Any] = {
        "id": uuid.UUID(int=1),
        "token": "tok",
        "title": "Planning",
        "description": "",
        "timezone": "America/New_York",
        "kind": "dates",
        "dates": (date(2026, 3, 7), date(2026, 3, 8)),
        "weekdays": None,
        "day_start": 60,
        "day_end": 240,
        "slot_minutes": 30,
        "status": "open",
        "final_start": None,
        "final_end": None,
        "version": 7,
        "created_at": CREATED,
        "updated_at": CREATED + timedelta(seconds=1, microseconds=250_000),
    }
    fields.update(changes)
    return EventSnapshot(**fields)


def participant(
    k: int,
    available: list[list[int]],
    if_needed: list[list[int]],
    n: int,
    missing: tuple[int, ...] = (),
    name: str | None = None,
) -> ParticipantSnapshot:
    """Participant ``k`` (id ``100 + k``) with those slot ranges on a grid of ``n`` slots."""
    return ParticipantSnapshot(
        id=uuid.UUID(int=100 + k),
        name=f"person {k}" if name is None else name,
        available=to_bytes(ranges_to_bits(available, n, missing), n),
        if_needed=to_bytes(ranges_to_bits(if_needed, n, missing), n),
    )
