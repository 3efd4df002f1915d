"""The signed-in user's events across devices."""

from typing import Annotated

from fastapi import APIRouter, Query

from overlap_api.deps import RequiredUser, ResourcesDep
from overlap_api.reads import my_events
from overlap_api.schemas import MyEvents

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
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict:
    async with resources.reading() as conn:
        page, next_cursor = await my_events(conn, user, limit, cursor)
    return {"events": page, "next_cursor": next_cursor}
