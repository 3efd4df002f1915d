"""POST /api/calendar/busy: the busy times of an uploaded .ics file within a window, so
the page can pre-fill a participant's grid (they review it before saving). Stateless: the
file is parsed in memory and dropped; no URL is fetched. The body limit is the API's
(BodyLimit, as the gateway's); parsing runs in a worker thread."""

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from overlap_api.calendar_import.busy import (
    MAX_OCCURRENCES,
    busy_times,
    check_window,
)
from overlap_api.events.grid import Zone
from overlap_api.http.errors import UnsupportedMediaType

router = APIRouter(prefix="/api/calendar", tags=["calendar"])
ICS_TYPES = {"text/calendar", "application/octet-stream"}
ICS_BODY = {
    "required": True,
    "content": {"text/calendar": {"schema": {"type": "string", "maxLength": 262144}}},
}


class BusyInterval(BaseModel):
    start: datetime
    end: datetime


class BusyAnswer(BaseModel):
    busy: list[BusyInterval] = Field(description="merged busy intervals, UTC, half-open")
    occurrences: int = Field(description="expanded events read in the window")


@router.post(
    "/busy",
    response_model=BusyAnswer,
    summary="Busy times of an .ics file (not stored)",
    description=(
        "Body: the .ics file (`Content-Type: text/calendar`, at most 256 KiB). Recurrences "
        "are expanded in [start, end) (at most 400 days, at most "
        f"{MAX_OCCURRENCES} occurrences); all-day and floating times are read in `zone`. "
        "Free and cancelled events are not busy. Nothing is stored."
    ),
    openapi_extra={"requestBody": ICS_BODY},
    responses={413: {"description": "file too large"}, 415: {"description": "not text/calendar"}},
)
async def read_busy_times(
    request: Request,
    start: Annotated[AwareDatetime, Query()],
    end: Annotated[AwareDatetime, Query()],
    zone: Annotated[Zone, Query(max_length=64)],
) -> BusyAnswer:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ICS_TYPES:
        raise UnsupportedMediaType("send the .ics file as text/calendar")
    check_window(start, end)
    data = await request.body()
    busy = await to_thread.run_sync(busy_times, data, start, end, ZoneInfo(zone))
    return BusyAnswer(
        busy=[BusyInterval(start=s, end=e) for s, e in busy.intervals],
        occurrences=busy.occurrences,
    )
