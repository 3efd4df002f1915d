"""SQL used by the write paths. Every write starts by bumping the event's version, which
locks the event row: writes to one event serialize, so none is lost and versions and
outbox rows follow commit order."""

import uuid
from dataclasses import dataclass
from typing import Any, cast

from overlap_shared import events
from overlap_shared.models import Event, OutboxMessage, Participant
from overlap_shared.queries import SNAPSHOT_COLUMNS, event_snapshot
from overlap_shared.view import EventSnapshot
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.http.errors import EventNotFound, Forbidden, KeyRequired
from overlap_api.keys import MAX_KEY_LENGTH, key_hash, key_matches


@dataclass(frozen=True)
class Locked:
    """An event row locked for this transaction, with its new version."""

    event: EventSnapshot
    admin_key_hash: bytes

    @property
    def id(self) -> uuid.UUID:
        return self.event.id

    @property
    def version(self) -> int:
        return self.event.version

    def envelope(self) -> dict[str, Any]:
        """The envelope fields of a domain event about this change."""
        return {"event_id": self.id, "token": self.event.token, "version": self.version}


async def bump_version(conn: AsyncConnection, token: str, **changes: object) -> Locked:
    """Apply ``changes`` to the event, increment its version; 404 when there is no such event."""
    stmt = (
        update(Event)
        .where(Event.token == token)
        .values({"version": Event.version + 1, "updated_at": func.now(), **changes})
        .returning(*SNAPSHOT_COLUMNS, Event.admin_key_hash)
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise EventNotFound("no event has this link (it may have been deleted)")
    return Locked(event_snapshot(row), cast(bytes, row[-1]))


def require_admin(locked: Locked, admin_key: str | None) -> None:
    require_admin_key(locked.admin_key_hash, admin_key)


def require_admin_key(admin_key_hash: bytes, admin_key: str | None) -> None:
    """401 without a key, 403 unless it is the key whose hash the event stores."""
    if not admin_key:
        raise KeyRequired("this action needs the event's X-Admin-Key header")
    if len(admin_key) > MAX_KEY_LENGTH or not key_matches(admin_key, admin_key_hash):
        raise Forbidden("X-Admin-Key is not the admin key of this event")


def participant_key_hash(participant_key: str | None) -> bytes:
    if not participant_key:
        raise KeyRequired("this action needs your X-Participant-Key header")
    if len(participant_key) > MAX_KEY_LENGTH:
        raise Forbidden("X-Participant-Key is not a key of this event")
    return key_hash(participant_key)


async def find_participant(
    conn: AsyncConnection, event_id: uuid.UUID, participant_key: str | None
) -> Row[Any]:
    """The participant this key belongs to, in this event (403 otherwise)."""
    digest = participant_key_hash(participant_key)
    stmt = select(
        Participant.id, Participant.name, Participant.available, Participant.if_needed
    ).where(Participant.key_hash == digest, Participant.event_id == event_id)
    row: Any = (await conn.execute(stmt)).first()
    if row is None:
        raise Forbidden("X-Participant-Key is not a key of a participant of this event")
    return row


async def enqueue(conn: AsyncConnection, topic: str, *messages: events.Message) -> None:
    """Add domain events to the outbox, in this transaction (the relay publishes them)."""
    await conn.execute(
        insert(OutboxMessage),
        [
            {
                "message_id": m.id,
                "topic": topic,
                "key": events.kafka_key(m),
                "payload": events.encode(m),
                "headers": {"type": m.type},
            }
            for m in messages
        ],
    )
