"""The signed-in user's events (created or joined), newest first, keyset-paginated; a page
is cached in Redis (tagged with its events, so a change to one of them clears it)."""

import base64
import re
from datetime import datetime
from typing import Any

from overlap_shared.models import Event, Participant
from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.http.errors import Invalid
from overlap_api.keys import TOKEN_PATTERN
from overlap_api.reads.caches import Caches
from overlap_api.resources import Resources


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


async def my_events_cached(
    caches: Caches, resources: Resources, user: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    """One page of :func:`my_events`, from the cache or PostgreSQL."""
    page_name = f"{limit}:{cursor or ''}"
    budget = caches.gate.budget()  # one Redis deadline for this lookup and its write-back
    cached = await caches.get_user_page(user, page_name, budget)
    if cached is not None:
        return cached
    async with resources.reading() as conn:
        page, next_cursor = await my_events(conn, user, limit, cursor)
    answer = {"events": page, "next_cursor": next_cursor}
    await caches.put_user_page(user, page_name, answer, budget)
    return answer
