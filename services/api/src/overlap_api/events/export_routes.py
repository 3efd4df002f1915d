"""The organiser's CSV export of everyone's availability (admin key)."""

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from overlap_api.events.export import export_csv
from overlap_api.http.deps import AdminKey, ResourcesDep, Token
from overlap_api.http.errors import KEYED_PROBLEMS
from overlap_api.reads import queries as reads

router = APIRouter(prefix="/api/events", tags=["events"])


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
async def export(token: Token, resources: ResourcesDep, admin_key: AdminKey = None) -> Response:
    async with resources.reading() as conn:
        event, people = await reads.snapshot_for_admin(conn, token, admin_key)
    text = await run_in_threadpool(export_csv, event, people)  # up to 5,952 x 1,000 cells
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="overlap-availability.csv"'},
    )
