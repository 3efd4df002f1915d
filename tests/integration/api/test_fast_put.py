"""The PUT fast path answers exactly as the route does: the same request sent plainly
(answered before the framework) and chunked (left to the route) gets the same status,
headers and body, whatever the outcome; and it is timed under the route's template."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from tests.integration.conftest import Api

PUT = "/api/events/{token}/participants/me/availability"
JSON = {"Content-Type": "application/json"}


async def _chunked(body: bytes) -> AsyncIterator[bytes]:
    yield body  # no Content-Length: the fast path leaves it to the route


async def _both(api: Api, path: str, body: Any, headers: dict[str, str]) -> list[httpx.Response]:
    raw = orjson.dumps(body)
    plain = await api.client.put(path, content=raw, headers={**JSON, **headers})
    routed = await api.client.put(path, content=_chunked(raw), headers={**JSON, **headers})
    return [plain, routed]


def _shape(r: httpx.Response) -> tuple[int, str | None, str | None, Any]:
    body = r.json()
    if "version" in body:
        body["version"] = "v"  # the second write's version is one more
    return r.status_code, r.headers.get("content-type"), r.headers.get("retry-after"), body


@pytest.mark.parametrize(
    ("case", "status"),
    [("ok", 200), ("off the grid", 422), ("overlap", 422), ("wrong key", 403),
     ("no such event", 404), ("too many ranges", 422)],
)  # fmt: skip
async def test_the_fast_path_answers_as_the_route(api: Api, case: str, status: int) -> None:
    week = [f"2026-12-0{d}" for d in range(1, 8)]
    created = await api.create_event(dates=week, day_start="00:00", day_end="24:00",
                                     slot_minutes=15)  # fmt: skip
    token = created["token"]
    me = await api.join(token, "Ada")
    key = {"X-Participant-Key": me["participant_key"]}
    n = created["event"]["slot_count"]
    body: dict[str, Any] = {"available": [[0, 2], [4, 5]], "if_needed": [[2, 3]]}
    path = PUT.format(token=token)
    if case == "off the grid":
        body = {"available": [[0, n + 1]]}
    elif case == "overlap":
        body = {"available": [[0, 2]], "if_needed": [[1, 3]]}
    elif case == "wrong key":
        key = {"X-Participant-Key": "x" * 32}
    elif case == "no such event":
        path = PUT.format(token="NoSuchEventToken000000")
    elif case == "too many ranges":  # 336 ranges: more than one participant may hold
        body = {"available": [[i, i + 1] for i in range(0, n, 2)]}
    answers = await _both(api, path, body, key)
    assert [r.status_code for r in answers] == [status, status], [r.text for r in answers]
    assert _shape(answers[0]) == _shape(answers[1])
    if status == 200:
        versions = [r.json()["version"] for r in answers]
        assert versions[1] == versions[0] + 1
        assert answers[0].headers["content-length"] == str(len(answers[0].content))


async def test_the_fast_path_is_timed_under_the_routes_template(api: Api) -> None:
    created = await api.create_event()
    token = created["token"]
    key = {"X-Participant-Key": (await api.join(token, "Bo"))["participant_key"]}
    monitor = api.app.state.monitor
    template = "PUT /api/events/{token}/participants/me/availability"
    before = monitor.totals[template]
    api.sql.reset()
    r = await api.client.put(PUT.format(token=token), json={"available": [[0, 1]]}, headers=key)
    assert r.status_code == 200, r.text
    assert monitor.totals[template] == before + 1
    assert monitor.sql[-1] == len(api.sql.statements) >= 1
