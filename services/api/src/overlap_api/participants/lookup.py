"""The one lookup of a participant by the key it presents (header ``X-Participant-Key``),
used by the writes, the participant's own read and the presence channel's authorization."""

from typing import Any

from overlap_shared.models import Event, Participant
from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.http.errors import EventNotFound, Forbidden
from overlap_api.keys import participant_key_hash

NOT_A_PARTICIPANT = "X-Participant-Key is not a key of a participant of this event"


async def find_participant(
    conn: AsyncConnection, participant_key: str | None, event: ColumnElement[bool]
) -> Row[Any]:
    """The event's ``version`` and the key holder's ``id``, ``name``, ``available`` and
    ``if_needed`` (one statement), in the event that ``event`` selects (``Event.token ==
    token`` or ``Event.id == event_id``): 404 without that event, 403 when no participant
    of it holds the key."""
    digest = participant_key_hash(participant_key)
    stmt = (
        select(
            Event.version,
            Participant.id,
            Participant.name,
            Participant.available,
            Participant.if_needed,
        )
        .outerjoin(
            Participant, (Participant.event_id == Event.id) & (Participant.key_hash == digest)
        )
        .where(event)
    )
    row: Any = (await conn.execute(stmt)).first()
    if row is None:
        raise EventNotFound()
    if row.id is None:
        raise Forbidden(NOT_A_PARTICIPANT)
    return row
