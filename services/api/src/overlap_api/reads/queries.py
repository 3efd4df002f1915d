"""Read paths: the view (one SQL statement), best times, the calendar file, my events, the
organiser's export."""

import base64
import re
from datetime import datetime

import orjson
from overlap_shared.best_read import VIEW_BEST_LIMIT, best_from_view, view_best, view_head
from overlap_shared.bitmaps import bits_to_ranges, from_bytes
from overlap_shared.models import Event, Participant
from overlap_shared.queries import Snapshot, load_snapshot_by_token
from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.http.deps import TOKEN_PATTERN
from overlap_api.http.errors import EventNotFound, Forbidden, Invalid
from overlap_api.writes.store import participant_key_hash, require_admin_key


async def snapshot(conn: AsyncConnection, token: str) -> Snapshot:
    found = await load_snapshot_by_token(conn, token)
    if found is None:
        raise EventNotFound("no event has this link (it may have been deleted)")
    return found


async def snapshot_for_admin(conn: AsyncConnection, token: str, admin_key: str | None) -> Snapshot:
    """The event and its participants, for its organiser only (the key is checked first)."""
    digest = (await conn.execute(select(Event.admin_key_hash).where(Event.token == token))).scalar()
    if digest is None:
        raise EventNotFound("no event has this link (it may have been deleted)")
    require_admin_key(digest, admin_key)
    return await snapshot(conn, token)


def best_for(view: bytes, min_minutes: int, required: list[str], limit: int) -> bytes:
    """The best-times answer from the event's view bytes (no SQL; see ``best_read``)."""
    head = view_head(view)
    slot_minutes = head["event"]["slot_minutes"]
    if min_minutes % slot_minutes:
        raise Invalid(f"min_minutes must be a multiple of the slot size ({slot_minutes})")
    min_slots = max(1, min_minutes // slot_minutes)
    if min_slots == 1 and not required and limit <= VIEW_BEST_LIMIT:
        best = view_best(view)[:limit]
    else:
        doc = orjson.loads(view)
        ids = {p["id"] for p in doc["participants"]}
        unknown = [r for r in required if r not in ids]
        if unknown:
            raise Invalid(f"required names participants not in this event: {unknown[:5]}")
        best = best_from_view(doc, min_slots, required, limit)
    return orjson.dumps({"version": head["version"], "best": best})


def _cursor(updated_at: datetime, token: str) -> str:
    return base64.urlsafe_b64encode(f"{updated_at.isoformat()}|{token}".encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, token = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        at = datetime.fromisoformat(stamp)
    except ValueError:
        at, token = None, ""
    if at is None or at.tzinfo is None or not re.fullmatch(TOKEN_PATTERN, token):
        raise Invalid("cursor is not one this API gave")  # (a NUL would even fail in SQL)
    return at, token


async def my_events(
    conn: AsyncConnection, user_id: str, limit: int, cursor: str | None
) -> tuple[list[dict], str | None]:
    """Events the user created or joined, newest first, keyset-paginated."""
    admin = select(
        Event.token, Event.title, literal("admin").label("role"), Event.updated_at
    ).where(Event.creator_user_id == user_id)
    member = (
        select(Event.token, Event.title, literal("participant").label("role"), Event.updated_at)
        .join(Participant, Participant.event_id == Event.id)
        .where(Participant.user_id == user_id, Event.creator_user_id.is_distinct_from(user_id))
    )
    both = union_all(admin, member).subquery()
    stmt = select(both).order_by(both.c.updated_at.desc(), both.c.token.desc()).limit(limit + 1)
    if cursor:
        stamp, token = _parse_cursor(cursor)
        stmt = stmt.where(
            (both.c.updated_at < stamp) | ((both.c.updated_at == stamp) & (both.c.token < token))
        )
    rows = (await conn.execute(stmt)).all()
    page = [
        {"token": t, "title": title, "role": role, "updated_at": at.isoformat()}
        for t, title, role, at in rows[:limit]
    ]
    more = len(rows) > limit
    return page, _cursor(rows[limit - 1][3], rows[limit - 1][0]) if more else None


async def read_me(conn: AsyncConnection, token: str, participant_key: str | None) -> dict:
    """The caller's own participant record and ranges, in one statement."""
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
        .where(Event.token == token)
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise EventNotFound("no event has this link (it may have been deleted)")
    version, pid, name, available, if_needed = row
    if pid is None:
        raise Forbidden("X-Participant-Key is not a key of a participant of this event")
    return {
        "participant": {"id": pid, "name": name},
        "available": bits_to_ranges(from_bytes(available)),
        "if_needed": bits_to_ranges(from_bytes(if_needed)),
        "version": version,
    }
