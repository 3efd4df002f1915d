"""Creating, editing, finalizing and deleting events. Functions take an open transaction;
the route's ``transaction()`` block is the one place that commits."""

import uuid
from collections.abc import Sequence
from typing import Any

from overlap_shared import events
from overlap_shared.bitmaps import from_bytes, to_bytes
from overlap_shared.models import Event, Participant
from overlap_shared.remap import remap_bits
from overlap_shared.slots import format_hhmm
from overlap_shared.view import EventSnapshot
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.events.schemas import EventCreate, EventUpdate, grid_from
from overlap_api.http.errors import Conflict, Invalid, VersionMismatch
from overlap_api.keys import key_hash, new_key, new_token
from overlap_api.writes.store import Locked, bump_version, enqueue, require_admin

GRID_FIELDS = ("timezone", "dates", "weekdays", "day_start", "day_end", "slot_minutes")


async def create_event(
    conn: AsyncConnection, body: EventCreate, topic: str, user_id: str | None
) -> tuple[Locked, str]:
    grid = grid_from(body.model_dump())
    admin_key = new_key()
    token = new_token()
    values = {
        "id": uuid.uuid4(),
        "token": token,
        "admin_key_hash": key_hash(admin_key),
        "title": body.title,
        "description": body.description,
        "timezone": grid.timezone,
        "kind": grid.kind,
        "dates": list(grid.dates) if grid.dates is not None else None,
        "weekdays": list(grid.weekdays) if grid.weekdays is not None else None,
        "day_start": grid.day_start,
        "day_end": grid.day_end,
        "slot_minutes": grid.slot_minutes,
        "status": "open",
        "version": 0,
        "creator_user_id": user_id,
    }
    await conn.execute(insert(Event).values(**values))
    locked = await bump_version(conn, token)  # version 1, same path as every write
    data = events.EventCreatedData(
        title=body.title,
        timezone=grid.timezone,
        kind=grid.kind,
        slot_minutes=grid.slot_minutes,
        slot_count=grid.slot_count,
        creator_user_id=user_id,
    )
    await enqueue(conn, topic, events.EventCreated(**locked.envelope(), data=data))
    return locked, admin_key


def check_if_match(if_match: str | None, current_version: int) -> None:
    """``If-Match: "v<version>"`` must name the version before this change."""
    if if_match is None or if_match.strip() == "*":
        return
    expected = f'"v{current_version}"'
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    if expected not in tags:
        raise VersionMismatch(
            f"the event changed: it is at version {current_version}, If-Match was {if_match[:40]}"
        )


def _grid_fields(event: EventSnapshot) -> dict[str, Any]:
    return {
        "timezone": event.timezone,
        "dates": list(event.dates) if event.dates is not None else None,
        "weekdays": list(event.weekdays) if event.weekdays is not None else None,
        "day_start": format_hhmm(event.day_start),
        "day_end": format_hhmm(event.day_end),
        "slot_minutes": event.slot_minutes,
    }


async def update_event(
    conn: AsyncConnection,
    token: str,
    admin_key: str | None,
    body: EventUpdate,
    if_match: str | None,
    topic: str,
) -> Locked:
    locked = await bump_version(conn, token)
    require_admin(locked, admin_key)
    check_if_match(if_match, locked.version - 1)
    changed = body.model_dump(exclude_unset=True)
    if changed.get("title", "") is None or changed.get("description", "") is None:
        raise Invalid("title and description cannot be null")
    grid_changes = {k: v for k, v in changed.items() if k in GRID_FIELDS}
    values: dict[str, Any] = {k: v for k, v in changed.items() if k not in GRID_FIELDS}
    grid_changed = False
    if grid_changes:
        merged = {**_grid_fields(locked.event), **grid_changes}
        if "dates" in grid_changes:
            merged["weekdays"] = None
        if "weekdays" in grid_changes:
            merged["dates"] = None
        try:
            new_grid = grid_from(merged)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        old_grid = locked.event.grid
        grid_changed = new_grid != old_grid
        if grid_changed and locked.event.status == "finalized":
            raise Conflict("a finalized event's slots cannot change; its final time would move")
        values.update(
            timezone=new_grid.timezone,
            kind=new_grid.kind,
            dates=list(new_grid.dates) if new_grid.dates is not None else None,
            weekdays=list(new_grid.weekdays) if new_grid.weekdays is not None else None,
            day_start=new_grid.day_start,
            day_end=new_grid.day_end,
            slot_minutes=new_grid.slot_minutes,
        )
        if grid_changed:
            await _remap_availability(conn, locked.id, old_grid, new_grid)
    if values:
        await conn.execute(update(Event).where(Event.id == locked.id).values(**values))
    locked = await bump_version(conn, token, version=locked.version)  # re-read, same version
    data = events.EventUpdatedData(fields=tuple(sorted(changed)), grid_changed=grid_changed)
    await enqueue(conn, topic, events.EventUpdated(**locked.envelope(), data=data))
    return locked


async def _remap_availability(
    conn: AsyncConnection, event_id: uuid.UUID, old: Any, new: Any
) -> None:
    rows = (
        await conn.execute(
            select(Participant.id, Participant.available, Participant.if_needed).where(
                Participant.event_id == event_id
            )
        )
    ).all()
    if not rows:
        return
    params = [
        {
            "pid": pid,
            "a": to_bytes(remap_bits(old, new, from_bytes(a)), new.slot_count),
            "n": to_bytes(remap_bits(old, new, from_bytes(n)), new.slot_count),
        }
        for pid, a, n in rows
    ]
    stmt = (
        update(Participant)
        .where(Participant.id == bindparam("pid"))
        .values(available=bindparam("a"), if_needed=bindparam("n"))
    )
    await conn.execute(stmt, params)


async def finalize_event(
    conn: AsyncConnection, token: str, admin_key: str | None, start: int, end: int, topic: str
) -> Locked:
    locked = await bump_version(conn, token)
    require_admin(locked, admin_key)
    grid = locked.event.grid
    if not 0 <= start < end <= grid.slot_count:
        raise Invalid(f"final range [{start}, {end}) must lie within [0, {grid.slot_count})")
    day_start, day_end = grid.split(start)[0], grid.split(end - 1)[0]
    if day_start != day_end:
        raise Invalid("the final time must lie within one day")
    if set(range(start, end)) & set(grid.missing()):
        raise Invalid("the final time covers slots that do not exist (a DST change)")
    locked = await bump_version(
        conn, token, version=locked.version, status="finalized", final_start=start, final_end=end
    )
    data = events.EventFinalizedData(start=start, end=end)
    await enqueue(conn, topic, events.EventFinalized(**locked.envelope(), data=data))
    return locked


async def delete_event(
    conn: AsyncConnection, token: str, admin_key: str | None, topic: str
) -> Locked:
    locked = await bump_version(conn, token)
    require_admin(locked, admin_key)
    await remove_events(conn, [locked], topic)
    return locked


async def remove_events(conn: AsyncConnection, doomed: Sequence[Locked], topic: str) -> None:
    """Delete locked events (their participants cascade) and add one ``EventDeleted`` each to
    the outbox: the organiser's delete and the expiry job both end here."""
    if not doomed:
        return
    await conn.execute(delete(Event).where(Event.id.in_([e.id for e in doomed])))
    gone = [events.EventDeleted(**e.envelope(), data=events.EventDeletedData()) for e in doomed]
    await enqueue(conn, topic, *gone)
