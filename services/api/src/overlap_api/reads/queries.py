"""The SQL of the read wing: an event with its participants (what a view is built from),
the same for its organiser only, and an event's metadata alone."""

from overlap_shared.models import Event
from overlap_shared.queries import (
    SNAPSHOT_COLUMNS,
    Snapshot,
    event_snapshot,
    load_snapshot_by_token,
)
from overlap_shared.view import EventSnapshot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.http.errors import EventNotFound
from overlap_api.keys import require_admin_key


async def snapshot(conn: AsyncConnection, token: str) -> Snapshot:
    found = await load_snapshot_by_token(conn, token)
    if found is None:
        raise EventNotFound()
    return found


async def snapshot_for_admin(conn: AsyncConnection, token: str, admin_key: str | None) -> Snapshot:
    """The event and its participants, for its organiser only (the key is checked first)."""
    digest = (await conn.execute(select(Event.admin_key_hash).where(Event.token == token))).scalar()
    if digest is None:
        raise EventNotFound()
    require_admin_key(digest, admin_key)
    return await snapshot(conn, token)


async def event_meta(conn: AsyncConnection, token: str) -> EventSnapshot:
    """The event without its participants."""
    row = (await conn.execute(select(*SNAPSHOT_COLUMNS).where(Event.token == token))).first()
    if row is None:
        raise EventNotFound()
    return event_snapshot(row)
