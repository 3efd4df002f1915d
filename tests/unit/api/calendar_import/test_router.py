"""POST /api/calendar/busy on an app with the API's error handlers: the answer's shape,
and problem+json for a wrong media type, a bad file, a bad zone and a bad window."""

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from overlap_api.calendar_import.router import router
from overlap_api.http.errors import install_error_handlers

WEEKLY = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a@t\r\n"
    b"DTSTART;TZID=America/New_York:20261026T090000\r\nDURATION:PT1H\r\n"
    b"RRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
WINDOW = {
    "start": "2026-10-20T00:00:00Z",
    "end": "2026-11-20T00:00:00Z",
    "zone": "America/New_York",
}


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    with TestClient(app) as c:
        yield c


def post(
    client: TestClient, body: bytes, ctype: str = "text/calendar", **query: str
) -> httpx.Response:
    return client.post(
        "/api/calendar/busy",
        params={**WINDOW, **query},
        content=body,
        headers={"Content-Type": ctype},
    )


def test_busy_times_in_utc_across_the_us_dst_change(client: TestClient) -> None:
    answer = post(client, WEEKLY)
    assert answer.status_code == 200, answer.text
    starts = [b["start"] for b in answer.json()["busy"]]
    # 09:00 EDT is 13:00 UTC; New York leaves DST on 1 November 2026: 09:00 EST is 14:00 UTC.
    assert starts == ["2026-10-26T13:00:00Z", "2026-11-02T14:00:00Z", "2026-11-09T14:00:00Z"]
    assert answer.json()["occurrences"] == 3


@pytest.mark.parametrize(
    ("body", "ctype", "query", "status"),
    [
        (WEEKLY, "application/json", {}, 415),
        (b"not a calendar", "text/calendar", {}, 422),
        (WEEKLY, "text/calendar", {"zone": "Factory"}, 422),
        (WEEKLY, "text/calendar", {"zone": "Mars/Olympus"}, 422),
        (WEEKLY, "text/calendar", {"end": "2026-10-01T00:00:00Z"}, 422),
        (WEEKLY, "text/calendar", {"start": "2026-10-20T00:00:00"}, 422),
    ],
)
def test_refusals_are_problems(
    client: TestClient, body: bytes, ctype: str, query: dict[str, str], status: int
) -> None:
    answer = post(client, body, ctype, **query)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["detail"]
