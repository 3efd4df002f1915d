"""Creating, editing, finalizing, reopening and deleting events. Functions take an open transaction;
the route's ``transaction()`` block is the one place that commits."""

import uuid
from collections.abc import Sequence

from overlap_shared import events
from overlap_shared.bitmaps import from_bytes, to_bytes
from overlap_shared.models import Event, Participant
from overlap_shared.remap import remap_bits
from overlap_shared.slots import SlotGrid
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.events.changes import plan_edit
from overlap_api.events.grid import grid_columns, grid_from
from overlap_api.events.schemas import EventCreate, EventUpdate
from overlap_api.http.errors import Conflict, Invalid, VersionMismatch
from overlap_api.http.etags import etag, lists
from overlap_api.keys import key_hash, new_key, new_token
from overlap_api.writes.store import Locked, change_event, enqueue, lock_event, require_admin


async def create_event(
    conn: AsyncConnection, body: EventCreate, topic: str, user_id: str | None
) -> tuple[Locked, str]:
    grid = grid_from(body.model_dump())
    admin_key = new_key()
    token = new_token()
    await conn.execute(
        insert(Event).values(
            id=uuid.uuid4(),
            token=token,
            admin_key_hash=key_hash(admin_key),
            title=body.title,
            description=body.description,
            status="open",
            version=0,
            creator_user_id=user_id,
            **grid_columns(grid),
        )
    )
    locked = await lock_event(conn, token)  # version 1, same path as every write
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
    if if_match is None or if_match.strip() == "*" or lists(if_match, etag(current_version)):
        return
    raise VersionMismatch(
        f"the event changed: it is at version {current_version}, If-Match was {if_match[:40]}"
    )


async def update_event(
    conn: AsyncConnection,
    token: str,
    admin_key: str | None,
    body: EventUpdate,
    if_match: str | None,
    topic: str,
) -> Locked:
    """Lock, authorize, plan the edit (``changes.plan_edit``), remap availability when the
    grid moved, write, and queue ``EventUpdated``."""
    locked = await lock_event(conn, token)
    require_admin(locked, admin_key)
    check_if_match(if_match, locked.version - 1)
    changed = body.model_dump(exclude_unset=True)
    edit = plan_edit(locked.event, changed)
    if edit.grid_changed:
        await _remap_availability(conn, locked.id, edit.old_grid, edit.new_grid)
    if edit.columns:
        locked = await change_event(conn, locked, edit.columns)
    data = events.EventUpdatedData(fields=tuple(sorted(changed)), grid_changed=edit.grid_changed)
    await enqueue(conn, topic, events.EventUpdated(**locked.envelope(), data=data))
    return locked


async def _remap_availability(
    conn: AsyncConnection, event_id: uuid.UUID, old: SlotGrid, new: SlotGrid
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
    locked = await lock_event(conn, token)
    require_admin(locked, admin_key)
    grid = locked.event.grid
    if not 0 <= start < end <= grid.slot_count:
        raise Invalid(f"final range [{start}, {end}) must lie within [0, {grid.slot_count})")
    day_start, day_end = grid.split(start)[0], grid.split(end - 1)[0]
    if day_start != day_end:
        raise Invalid("the final time must lie within one day")
    if set(range(start, end)) & set(grid.missing()):
        raise Invalid("the final time covers slots that do not exist (a DST change)")
    final = {"status": "finalized", "final_start": start, "final_end": end}
    locked = await change_event(conn, locked, final)
    data = events.EventFinalizedData(start=start, end=end)
    await enqueue(conn, topic, events.EventFinalized(**locked.envelope(), data=data))
    return locked


async def reopen_event(
    conn: AsyncConnection, token: str, admin_key: str | None, topic: str
) -> Locked:
    """Undo a finalize: status open, no final time. Only a finalized event can be reopened
    (409 otherwise, as the calendar file answers). Queues ``EventUpdated`` naming the
    changed fields: caches drop the event's metadata and the pages refresh, as for an edit."""
    locked = await lock_event(conn, token)
    require_admin(locked, admin_key)
    if locked.event.status != "finalized":
        raise Conflict("the event is not finalized; there is nothing to reopen")
    reopened = {"status": "open", "final_start": None, "final_end": None}
    locked = await change_event(conn, locked, reopened)
    data = events.EventUpdatedData(fields=("final", "status"), grid_changed=False)
    await enqueue(conn, topic, events.EventUpdated(**locked.envelope(), data=data))
    return locked


async def delete_event(
    conn: AsyncConnection, token: str, admin_key: str | None, topic: str
) -> Locked:
    locked = await lock_event(conn, token)
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
