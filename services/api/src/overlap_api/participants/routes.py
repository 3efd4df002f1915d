"""Participant routes: join, me (read/rename/leave), availability, removal by the admin."""

import uuid
from typing import Any, TypedDict

import orjson
from fastapi import APIRouter, Request, Response

from overlap_api.http.deadline import not_after
from overlap_api.http.deps import Admin, CachesDep, Me, OptionalUser, ResourcesDep, Token, ViewsDep
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
async def get_me(me: Me, caches: CachesDep, views: ViewsDep) -> dict:
    return await read_me_cached(caches, views, me.token, me.key)


@router.patch(
    "/me",
    response_model=ParticipantChanged,
    summary="Rename myself",
    responses={**KEYED_PROBLEMS, 409: {"description": "name taken"}},
)
async def rename_me(me: Me, body: ParticipantRename, resources: ResourcesDep) -> dict:
    async with resources.transaction() as conn:
        locked, pid = await service.rename(
            conn, me.token, me.key, body.name, resources.settings.domain_topic
        )
    return {"participant": {"id": pid, "name": body.name}, "version": locked.version}


@router.delete("/me", status_code=204, summary="Leave the event", responses=KEYED_PROBLEMS)
async def leave(me: Me, resources: ResourcesDep, caches: CachesDep) -> Response:
    async with resources.transaction() as conn:
        locked, pid = await service.leave(conn, me.token, me.key, resources.settings.domain_topic)
    await caches.participant_left(me.token, locked.version, pid)
    return Response(status_code=204)


@router.delete(
    "/{participant_id}",
    status_code=204,
    summary="Remove a participant (admin)",
    responses=KEYED_PROBLEMS,
)
async def remove(
    admin: Admin, participant_id: uuid.UUID, resources: ResourcesDep, caches: CachesDep
) -> Response:
    async with resources.transaction() as conn:
        locked = await service.remove(
            conn, admin.token, admin.key, participant_id, resources.settings.domain_topic
        )
    await caches.participant_left(admin.token, locked.version, participant_id)
    return Response(status_code=204)


class RouteOptions(TypedDict):
    """The options the two availability routes share."""

    response_model: type[AvailabilityAnswer]
    responses: dict[int | str, dict[str, Any]]


AVAILABILITY_ROUTE = RouteOptions(response_model=AvailabilityAnswer, responses=KEYED_PROBLEMS)


@router.put("/me/availability", summary="Replace my availability", **AVAILABILITY_ROUTE)
async def put_availability(
    me: Me, body: AvailabilityPut, resources: ResourcesDep, request: Request
) -> Response:
    """The plain form of this request is answered before the framework (``http.fast_put``),
    by the same function."""
    ranges = body.available, body.if_needed
    deadline = not_after(request.scope)
    answer = await replace_availability(resources, me.token, me.key, ranges, deadline)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.patch(
    "/me/availability",
    summary="Edit my availability (clear, then set if-needed, then set available)",
    **AVAILABILITY_ROUTE,
)
async def patch_availability(me: Me, body: AvailabilityPatch, resources: ResourcesDep) -> dict:
    async with resources.transaction() as conn:
        locked, available, if_needed = await service.set_availability(
            conn, me.token, me.key, body, resources.settings.domain_topic
        )
    return availability_answer(locked.version, available, if_needed)
