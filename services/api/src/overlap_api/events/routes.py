"""Event routes: create, read (the view), edit, finalize, reopen, delete, best times, calendar,
and the organiser's CSV export."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from overlap_shared.view import event_public
from starlette.concurrency import run_in_threadpool

from overlap_api.events import service as event_service
from overlap_api.events.best import best_for
from overlap_api.events.calendar import calendar
from overlap_api.events.export import export_csv
from overlap_api.events.schemas import (
    BestTimes,
    EventChanged,
    EventCreate,
    EventCreated,
    EventUpdate,
    SlotRange,
    View,
)
from overlap_api.http.deps import (
    Admin,
    CachesDep,
    EntityTags,
    OptionalUser,
    ResourcesDep,
    Token,
    ViewsDep,
)
from overlap_api.http.errors import KEYED_PROBLEMS, Conflict
from overlap_api.http.hot_reads import view_response
from overlap_api.http.rate_limits import RATE_LIMITED, CostlyReadLimit, CreateEventLimit
from overlap_api.reads import queries
from overlap_api.resources import Resources
from overlap_api.writes.store import Locked

router = APIRouter(prefix="/api/events", tags=["events"])


@router.post(
    "",
    status_code=201,
    response_model=EventCreated,
    summary="Create an event",
    dependencies=[CreateEventLimit],
    responses=RATE_LIMITED,
)
async def create_event(body: EventCreate, resources: ResourcesDep, user: OptionalUser) -> dict:
    async with resources.transaction() as conn:
        locked, admin_key = await event_service.create_event(
            conn, body, resources.settings.domain_topic, user
        )
    return {
        "token": locked.event.token,
        "admin_key": admin_key,
        "version": locked.version,
        "event": public(locked, resources),
    }


def public(locked: Locked, resources: Resources) -> dict:
    """The event document a write answers with (the view's ``event``)."""
    return event_public(locked.event, retention_days=resources.settings.retention_days)


@router.get(
    "/{token}",
    response_model=View,
    summary="The event's view: everything the page needs",
    responses={304: {"description": "not modified"}, 404: KEYED_PROBLEMS[404]},
)
async def get_view(
    token: Token,
    views: ViewsDep,
    if_none_match: EntityTags = None,
    min_version: Annotated[int | None, Query(ge=0, le=2**53)] = None,
    x_min_version: Annotated[int | None, Header(ge=0, le=2**53)] = None,
) -> Response:
    """The plain form of this read, when its view is in process memory, is answered by
    ``hot_reads`` before it gets here; this is every other case."""
    wanted = max(min_version or 0, x_min_version or 0) or None
    body = await views.read(token, wanted)
    return view_response(body, if_none_match)


@router.patch(
    "/{token}",
    response_model=EventChanged,
    summary="Edit the event (admin)",
    responses={
        **KEYED_PROBLEMS,
        409: {"description": "finalized"},
        412: {"description": "stale If-Match"},
    },
)
async def update_event(
    admin: Admin, body: EventUpdate, resources: ResourcesDep, if_match: EntityTags = None
) -> dict:
    async with resources.transaction() as conn:
        locked = await event_service.update_event(
            conn, admin.token, admin.key, body, if_match, resources.settings.domain_topic
        )
    return {"version": locked.version, "event": public(locked, resources)}


@router.delete(
    "/{token}", status_code=204, summary="Delete the event (admin)", responses=KEYED_PROBLEMS
)
async def delete_event(admin: Admin, resources: ResourcesDep, caches: CachesDep) -> Response:
    async with resources.transaction() as conn:
        locked = await event_service.delete_event(
            conn, admin.token, admin.key, resources.settings.domain_topic
        )
    await caches.event_deleted(admin.token, locked.version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{token}/finalize",
    response_model=EventChanged,
    summary="Choose the final time (admin)",
    responses=KEYED_PROBLEMS,
)
async def finalize_event(admin: Admin, body: SlotRange, resources: ResourcesDep) -> dict:
    async with resources.transaction() as conn:
        locked = await event_service.finalize_event(
            conn, admin.token, admin.key, body.start, body.end, resources.settings.domain_topic
        )
    return {"version": locked.version, "event": public(locked, resources)}


@router.post(
    "/{token}/reopen",
    response_model=EventChanged,
    summary="Undo the final time: the event is open again (admin)",
    responses={**KEYED_PROBLEMS, 409: {"description": "not finalized"}},
)
async def reopen_event(admin: Admin, resources: ResourcesDep) -> dict:
    async with resources.transaction() as conn:
        locked = await event_service.reopen_event(
            conn, admin.token, admin.key, resources.settings.domain_topic
        )
    return {"version": locked.version, "event": public(locked, resources)}


@router.get(
    "/{token}/best-times",
    response_model=BestTimes,
    summary="Best blocks of time",
    dependencies=[CostlyReadLimit],
    responses={404: KEYED_PROBLEMS[404], **RATE_LIMITED},
)
async def best_times(
    token: Token,
    views: ViewsDep,
    min_minutes: Annotated[int, Query(ge=0, le=1440)] = 0,
    required: Annotated[
        str | None, Query(max_length=4000, description="ids, comma-separated")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    min_version: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> Response:
    wanted = [r.strip() for r in (required or "").split(",") if r.strip()]
    view = await views.read(token, min_version)  # cached: no SQL on a hit
    answer = best_for(view, min_minutes, wanted[:100], limit)
    return Response(answer, media_type="application/json")


@router.get(
    "/{token}/calendar.ics",
    summary="Calendar file for the final time",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}},
        404: KEYED_PROBLEMS[404],
        409: {"description": "not finalized yet"},
        **RATE_LIMITED,
    },
    dependencies=[CostlyReadLimit],
)
async def calendar_file(token: Token, resources: ResourcesDep) -> Response:
    async with resources.reading() as conn:  # rare, and must reflect a just-made finalize
        event, _ = await queries.snapshot(conn, token)
    if event.status != "finalized":
        raise Conflict("the event has no final time yet")
    url = f"{resources.settings.public_url.rstrip('/')}/e/{event.token}"
    text = calendar(event, url, datetime.now(UTC))
    return Response(
        text,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="overlap.ics"'},
    )


@router.get(
    "/{token}/export.csv",
    summary="Everyone's availability per slot, in local time, as CSV (admin)",
    description=(
        "One row per slot that exists (DST gaps have none): `day`, local `start` and `end`, "
        "`start_utc`, the counts `available` and `if_needed`, then one column per "
        "participant in joining order with `yes`, `if needed` or nothing."
    ),
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **KEYED_PROBLEMS},
)
async def export(admin: Admin, resources: ResourcesDep) -> Response:
    async with resources.reading() as conn:
        event, people = await queries.snapshot_for_admin(conn, admin.token, admin.key)
    text = await run_in_threadpool(export_csv, event, people)  # up to 5,952 x 1,000 cells
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="overlap-availability.csv"'},
    )
