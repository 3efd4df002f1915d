"""The signed-in user's events across devices."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from overlap_api.events.schemas import MyEvents
from overlap_api.http.deps import RequiredUser, ResourcesDep
from overlap_api.reads.queries import my_events

router = APIRouter(prefix="/api/me", tags=["users"])


@router.get(
    "/events",
    response_model=MyEvents,
    summary="Events I created or joined (newest first, paginated)",
    responses={401: {"description": "bearer token missing or invalid"}},
)
async def list_my_events(
    user: RequiredUser,
    request: Request,
    resources: ResourcesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict:
    caches = request.app.state.caches
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
