"""The one SQL statement that loads everything an event's view needs.

Event columns plus the participants' columns aggregated into arrays, in join order: one
round trip and one row however many participants there are (asyncpg decodes the arrays).
The same statement restricted to some participants feeds the availability worker's deltas.
"""

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_shared.models import Event, Participant
from overlap_shared.snapshots import EventSnapshot, ParticipantSnapshot

SNAPSHOT_COLUMNS = (
    Event.id,
    Event.token,
    Event.title,
    Event.description,
    Event.timezone,
    Event.kind,
    Event.dates,
    Event.weekdays,
    Event.day_start,
    Event.day_end,
    Event.slot_minutes,
    Event.status,
    Event.final_start,
    Event.final_end,
    Event.version,
    Event.created_at,
    Event.updated_at,
)
_ORDER = (Participant.created_at, Participant.id)


_PARTICIPANT_COLUMNS = (
    Participant.id,
    Participant.name,
    Participant.available,
    Participant.if_needed,
    Participant.created_at,
)


def _snapshot_query(where: ColumnElement[bool], joined: ColumnElement[bool] | None = None) -> Any:
    ordered = [
        func.array_agg(aggregate_order_by(c, *_ORDER)).filter(Participant.id.is_not(None))
        for c in _PARTICIPANT_COLUMNS
    ]
    on = Participant.event_id == Event.id
    return (
        select(*SNAPSHOT_COLUMNS, *ordered)
        .outerjoin(Participant, on if joined is None else on & joined)
        .where(where)
        .group_by(Event.id)
    )


Snapshot = tuple[EventSnapshot, list[ParticipantSnapshot]]


def event_snapshot(row: Sequence[Any]) -> EventSnapshot:
    """An EventSnapshot from a row that starts with SNAPSHOT_COLUMNS."""
    values = list(row[: len(SNAPSHOT_COLUMNS)])
    values[6] = tuple(values[6]) if values[6] is not None else None  # dates
    values[7] = tuple(values[7]) if values[7] is not None else None  # weekdays
    return EventSnapshot(*values)


def _to_snapshot(row: Sequence[Any]) -> Snapshot:
    n = len(SNAPSHOT_COLUMNS)
    event = event_snapshot(row)
    ids, names, available, if_needed, joined = (row[n + i] or [] for i in range(5))
    people = [
        ParticipantSnapshot(pid, name, bytes(a), bytes(b), at)
        for pid, name, a, b, at in zip(ids, names, available, if_needed, joined, strict=True)
    ]
    return event, people


async def load_snapshot_by_token(conn: AsyncConnection, token: str) -> Snapshot | None:
    row = (await conn.execute(_snapshot_query(Event.token == token))).first()
    return _to_snapshot(row) if row else None


async def load_snapshot_by_id(conn: AsyncConnection, event_id: uuid.UUID) -> Snapshot | None:
    row = (await conn.execute(_snapshot_query(Event.id == event_id))).first()
    return _to_snapshot(row) if row else None


async def load_participants_by_id(
    conn: AsyncConnection, event_id: uuid.UUID, participant_ids: Collection[uuid.UUID]
) -> Snapshot | None:
    """The event and only the named participants that still exist (a delta's input)."""
    joined = Participant.id.in_(list(participant_ids)) if participant_ids else false()
    row = (await conn.execute(_snapshot_query(Event.id == event_id, joined))).first()
    return _to_snapshot(row) if row else None
