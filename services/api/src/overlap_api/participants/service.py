"""Joining, renaming, leaving, removal by the organiser, and availability."""

import uuid
from collections.abc import Sequence

from overlap_shared import events
from overlap_shared.bitmaps import (
    RangeError,
    apply_patch,
    check_disjoint,
    check_range_budget,
    from_bytes,
    ranges_to_bits,
    to_bytes,
)
from overlap_shared.models import Event, Participant
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from overlap_api.http.errors import Invalid, NameTaken, ParticipantNotFound, TooMany
from overlap_api.keys import key_hash, new_key
from overlap_api.participants.lookup import find_participant
from overlap_api.participants.schemas import AvailabilityPatch, AvailabilityPut, name_key
from overlap_api.writes.store import Locked, enqueue, lock_event, require_admin


async def join(
    conn: AsyncConnection,
    token: str,
    name: str,
    user_id: str | None,
    max_participants: int,
    topic: str,
) -> tuple[Locked, uuid.UUID, str]:
    locked = await lock_event(conn, token)
    count = await conn.scalar(
        select(func.count()).select_from(Participant).where(Participant.event_id == locked.id)
    )
    if (count or 0) >= max_participants:
        raise TooMany(f"this event already has the maximum of {max_participants} participants")
    pid, key = uuid.uuid4(), new_key()
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(Participant).values(
                    id=pid,
                    event_id=locked.id,
                    name=name,
                    name_key=name_key(name),
                    key_hash=key_hash(key),
                    user_id=user_id,
                    available=b"",
                    if_needed=b"",
                )
            )
    except IntegrityError:
        raise NameTaken(f"someone in this event is already called {name!r}") from None
    data = events.ParticipantJoinedData(participant_id=pid, name=name, user_id=user_id)
    await enqueue(conn, topic, events.ParticipantJoined(**locked.envelope(), data=data))
    return locked, pid, key


async def rename(
    conn: AsyncConnection, token: str, participant_key: str | None, name: str, topic: str
) -> tuple[Locked, uuid.UUID]:
    locked = await lock_event(conn, token)
    me = await find_participant(conn, participant_key, Event.id == locked.id)
    try:
        async with conn.begin_nested():
            await conn.execute(
                update(Participant)
                .where(Participant.id == me.id)
                .values(name=name, name_key=name_key(name), updated_at=func.now())
            )
    except IntegrityError:
        raise NameTaken(f"someone in this event is already called {name!r}") from None
    data = events.ParticipantRenamedData(participant_id=me.id, name=name)
    await enqueue(conn, topic, events.ParticipantRenamed(**locked.envelope(), data=data))
    return locked, me.id


async def leave(
    conn: AsyncConnection, token: str, participant_key: str | None, topic: str
) -> tuple[Locked, uuid.UUID]:
    locked = await lock_event(conn, token)
    me = await find_participant(conn, participant_key, Event.id == locked.id)
    await _remove(conn, locked, me.id, by_admin=False, topic=topic)
    return locked, me.id


async def remove(
    conn: AsyncConnection, token: str, admin_key: str | None, participant_id: uuid.UUID, topic: str
) -> Locked:
    locked = await lock_event(conn, token)
    require_admin(locked, admin_key)
    await _remove(conn, locked, participant_id, by_admin=True, topic=topic)
    return locked


async def _remove(
    conn: AsyncConnection, locked: Locked, participant_id: uuid.UUID, by_admin: bool, topic: str
) -> None:
    gone = await conn.execute(
        delete(Participant)
        .where(Participant.id == participant_id, Participant.event_id == locked.id)
        .returning(Participant.id)
    )
    if gone.first() is None:
        raise ParticipantNotFound("this event has no such participant")
    data = events.ParticipantLeftData(participant_id=participant_id, removed_by_admin=by_admin)
    await enqueue(conn, topic, events.ParticipantLeft(**locked.envelope(), data=data))


def _bits(
    ranges: Sequence[Sequence[int]], slot_count: int, missing: Sequence[int], what: str
) -> int:
    try:
        return ranges_to_bits(ranges, slot_count, missing)
    except RangeError as exc:
        raise Invalid(f"{what}: {exc}") from None


async def set_availability(
    conn: AsyncConnection,
    token: str,
    participant_key: str | None,
    body: AvailabilityPut | AvailabilityPatch,
    topic: str,
) -> tuple[Locked, int, int]:
    """Replace (PUT) or edit (PATCH) the caller's availability; returns the new bitsets."""
    locked = await lock_event(conn, token)
    me = await find_participant(conn, participant_key, Event.id == locked.id)
    grid = locked.event.grid
    n, missing = grid.slot_count, grid.missing()
    if isinstance(body, AvailabilityPut):
        available = _bits(body.available, n, missing, "available")
        if_needed = _bits(body.if_needed, n, missing, "if_needed")
        try:
            check_disjoint(available, if_needed)
        except RangeError as exc:
            raise Invalid(str(exc)) from None
    else:
        available, if_needed = apply_patch(
            from_bytes(me.available),
            from_bytes(me.if_needed),
            _bits(body.set_available, n, missing, "set_available"),
            _bits(body.set_if_needed, n, missing, "set_if_needed"),
            _bits(body.clear, n, missing, "clear"),
        )
    try:
        check_range_budget(available, if_needed)  # bounds the view (README, "View engine")
    except RangeError as exc:
        raise Invalid(str(exc)) from None
    await conn.execute(
        update(Participant)
        .where(Participant.id == me.id)
        .values(
            available=to_bytes(available, n),
            if_needed=to_bytes(if_needed, n),
            updated_at=func.now(),
        )
    )
    data = events.AvailabilityChangedData(
        participant_id=me.id,
        available_slots=available.bit_count(),
        if_needed_slots=if_needed.bit_count(),
    )
    await enqueue(conn, topic, events.AvailabilityChanged(**locked.envelope(), data=data))
    return locked, available, if_needed
