"""The signed-in user's events across devices."""

from typing import Annotated

from fastapi import APIRouter, Query

from overlap_api.http.deps import CachesDep, RequiredUser, ResourcesDep
from overlap_api.me.schemas import MyEvents
from overlap_api.me.service import my_events_cached

router = APIRouter(prefix="/api/me", tags=["users"])


@router.get(
    "/events",
    response_model=MyEvents,
    summary="Events I created or joined (newest first, paginated)",
    responses={401: {"description": "bearer token missing or invalid"}},
)
async def list_my_events(
    user: RequiredUser,
    resources: ResourcesDep,
    caches: CachesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict:
    return await my_events_cached(caches, resources, user, limit, cursor)
