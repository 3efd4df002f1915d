"""SQL used by the write paths. Every write starts by locking the event (:func:`lock_event`
bumps its version, which locks the row): writes to one event serialize, so none is lost
and versions and outbox rows follow commit order."""

import uuid
from dataclasses import dataclass
from typing import Any, cast

from overlap_shared import events
from overlap_shared.models import Event, OutboxMessage, outbox_rows
from overlap_shared.queries import SNAPSHOT_COLUMNS, event_snapshot
from overlap_shared.view import EventSnapshot
from sqlalchemy import Update, func, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.http.errors import EventNotFound
from overlap_api.keys import require_admin_key


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


async def lock_event(conn: AsyncConnection, token: str) -> Locked:
    """Lock the event and increment its version; 404 when there is no such event."""
    stmt = update(Event).where(Event.token == token)
    return await _returning(conn, stmt.values(version=Event.version + 1, updated_at=func.now()))


async def change_event(conn: AsyncConnection, locked: Locked, values: dict[str, Any]) -> Locked:
    """Write ``values`` to the event this transaction locked (its version stays); the event
    as it is now."""
    return await _returning(conn, update(Event).where(Event.id == locked.id).values(values))


async def _returning(conn: AsyncConnection, stmt: Update) -> Locked:
    row = (await conn.execute(stmt.returning(*SNAPSHOT_COLUMNS, Event.admin_key_hash))).first()
    if row is None:
        raise EventNotFound()
    return Locked(event_snapshot(row), cast(bytes, row[-1]))


def require_admin(locked: Locked, admin_key: str | None) -> None:
    require_admin_key(locked.admin_key_hash, admin_key)


async def enqueue(conn: AsyncConnection, topic: str, *messages: events.Message) -> None:
    """Add domain events to the outbox, in this transaction (the relay publishes them)."""
    await conn.execute(insert(OutboxMessage), outbox_rows(topic, messages))
