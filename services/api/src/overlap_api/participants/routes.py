"""Participant routes: join, me (read/rename/leave), availability, removal by the admin."""

import uuid

import orjson
from fastapi import APIRouter, Response

from overlap_api.http.deps import (
    AdminKey,
    CachesDep,
    OptionalUser,
    ParticipantKey,
    ResourcesDep,
    Token,
    ViewsDep,
)
from overlap_api.http.errors import KEYED_PROBLEMS
from overlap_api.http.rate_limits import RATE_LIMITED, JoinLimit
from overlap_api.participants import service
from overlap_api.participants.me import read_me_cached
from overlap_api.participants.schemas import (
    AvailabilityAnswer,
    AvailabilityPatch,
    AvailabilityPut,
    ParticipantChanged,
    ParticipantCreate,
    ParticipantJoined,
    ParticipantMe,
    ParticipantRename,
)
from overlap_api.resources import Resources
from overlap_api.writes.availability import availability_answer, replace_availability

router = APIRouter(prefix="/api/events/{token}/participants", tags=["participants"])


@router.post(
    "",
    status_code=201,
    response_model=ParticipantJoined,
    summary="Join the event",
    responses={**KEYED_PROBLEMS, 409: {"description": "name taken"}, **RATE_LIMITED},
    dependencies=[JoinLimit],
)
async def join(
    token: Token, body: ParticipantCreate, resources: ResourcesDep, user: OptionalUser
) -> dict:
    s = resources.settings
    async with resources.transaction() as conn:
        locked, pid, key = await service.join(
            conn, token, body.name, user, s.max_participants, s.domain_topic
        )
    return {
        "participant": {"id": pid, "name": body.name},
        "participant_key": key,
        "version": locked.version,
    }


@router.get(
    "/me", response_model=ParticipantMe, summary="Me, with my ranges", responses=KEYED_PROBLEMS
)
async def get_me(
    token: Token, caches: CachesDep, views: ViewsDep, participant_key: ParticipantKey = None
) -> dict:
    return await read_me_cached(caches, views, token, participant_key)


@router.patch(
    "/me",
    response_model=ParticipantChanged,
    summary="Rename myself",
    responses={**KEYED_PROBLEMS, 409: {"description": "name taken"}},
)
async def rename_me(
    token: Token,
    body: ParticipantRename,
    resources: ResourcesDep,
    participant_key: ParticipantKey = None,
) -> dict:
    async with resources.transaction() as conn:
        locked, pid = await service.rename(
            conn, token, participant_key, body.name, resources.settings.domain_topic
        )
    return {"participant": {"id": pid, "name": body.name}, "version": locked.version}


@router.delete("/me", status_code=204, summary="Leave the event", responses=KEYED_PROBLEMS)
async def leave(
    token: Token, resources: ResourcesDep, caches: CachesDep, participant_key: ParticipantKey = None
) -> Response:
    async with resources.transaction() as conn:
        locked, pid = await service.leave(
            conn, token, participant_key, resources.settings.domain_topic
        )
    await caches.participant_left(token, locked.version, pid)
    return Response(status_code=204)


@router.delete(
    "/{participant_id}",
    status_code=204,
    summary="Remove a participant (admin)",
    responses=KEYED_PROBLEMS,
)
async def remove(
    token: Token,
    participant_id: uuid.UUID,
    resources: ResourcesDep,
    caches: CachesDep,
    admin_key: AdminKey = None,
) -> Response:
    async with resources.transaction() as conn:
        locked = await service.remove(
            conn, token, admin_key, participant_id, resources.settings.domain_topic
        )
    await caches.participant_left(token, locked.version, participant_id)
    return Response(status_code=204)


async def _availability(
    token: str, body: AvailabilityPut | AvailabilityPatch, resources: Resources, key: str | None
) -> dict:
    async with resources.transaction() as conn:
        locked, available, if_needed = await service.set_availability(
            conn, token, key, body, resources.settings.domain_topic
        )
    return availability_answer(locked.version, available, if_needed)


@router.put(
    "/me/availability",
    response_model=AvailabilityAnswer,
    summary="Replace my availability",
    responses=KEYED_PROBLEMS,
)
async def put_availability(
    token: Token,
    body: AvailabilityPut,
    resources: ResourcesDep,
    participant_key: ParticipantKey = None,
) -> Response:
    """The plain form of this request is answered before the framework (``http.fast_put``),
    by the same function."""
    ranges = body.available, body.if_needed
    answer = await replace_availability(resources, token, participant_key, ranges)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.patch(
    "/me/availability",
    response_model=AvailabilityAnswer,
    summary="Edit my availability (clear, then set if-needed, then set available)",
    responses=KEYED_PROBLEMS,
)
async def patch_availability(
    token: Token,
    body: AvailabilityPatch,
    resources: ResourcesDep,
    participant_key: ParticipantKey = None,
) -> dict:
    return await _availability(token, body, resources, participant_key)
