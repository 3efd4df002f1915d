"""Every key-bearing route refuses keys of another event or participant, and bad input."""

from typing import Any

import pytest

from tests.integration.api.bodies import MINIMAL_EVENT
from tests.integration.conftest import Api


@pytest.fixture(scope="module")
async def two_events(api: Api) -> dict[str, Any]:
    a, b = await api.create_event(title="A"), await api.create_event(title="B")
    a1, a2 = await api.join(a["token"], "a1"), await api.join(a["token"], "a2")
    b1 = await api.join(b["token"], "b1")
    return {"a": a, "b": b, "a1": a1, "a2": a2, "b1": b1}


def admin_routes(token: str, pid: str) -> list[tuple[str, str, dict | None]]:
    return [
        ("PATCH", f"/api/events/{token}", {"title": "hijacked"}),
        ("POST", f"/api/events/{token}/finalize", {"start": 0, "end": 1}),
        ("POST", f"/api/events/{token}/reopen", None),
        ("DELETE", f"/api/events/{token}/participants/{pid}", None),
        ("DELETE", f"/api/events/{token}", None),
    ]


def participant_routes(token: str) -> list[tuple[str, str, dict | None]]:
    me = f"/api/events/{token}/participants/me"
    return [
        ("GET", me, None),
        ("PATCH", me, {"name": "hijacked"}),
        ("PUT", f"{me}/availability", {"available": [[0, 1]]}),
        ("PATCH", f"{me}/availability", {"set_available": [[0, 1]]}),
        ("DELETE", me, None),
    ]


async def test_admin_key_of_event_b_is_refused_on_event_a(api: Api, two_events: dict) -> None:
    a, b = two_events["a"], two_events["b"]
    for key, expected in [
        (b["admin_key"], 403),
        (None, 401),
        ("", 401),
        ("x" * 64, 403),
        (two_events["a1"]["participant_key"], 403),
    ]:
        headers = {"X-Admin-Key": key} if key is not None else {}
        for method, url, body in admin_routes(a["token"], two_events["a2"]["participant"]["id"]):
            r = await api.client.request(method, url, json=body, headers=headers)
            assert r.status_code == expected, (method, url, key, r.text)
            assert r.headers["content-type"] == "application/problem+json"
    view = (await api.client.get(f"/api/events/{a['token']}")).json()
    assert view["event"]["title"] == "A" and len(view["participants"]) == 2


async def test_participant_key_of_another_event_is_refused(api: Api, two_events: dict) -> None:
    a = two_events["a"]
    for key, expected in [
        (two_events["b1"]["participant_key"], 403),
        (a["admin_key"], 403),
        (None, 401),
        ("not-a-key", 403),
        ("k" * 129, 422),
    ]:
        headers = {"X-Participant-Key": key} if key is not None else {}
        for method, url, body in participant_routes(a["token"]):
            r = await api.client.request(method, url, json=body, headers=headers)
            assert r.status_code == expected, (method, url, key, r.text)
    view = (await api.client.get(f"/api/events/{a['token']}")).json()
    assert {p["name"] for p in view["participants"]} == {"a1", "a2"}
    assert view["heatmap"]["available"] == [0] * 32


async def test_a_participant_cannot_touch_another_participant(api: Api, two_events: dict) -> None:
    a = two_events["a"]
    a1_key = {"X-Participant-Key": two_events["a1"]["participant_key"]}
    # there is no route that names another participant for a participant key; the admin
    # route for removal refuses a participant key
    url = f"/api/events/{a['token']}/participants/{two_events['a2']['participant']['id']}"
    r = await api.client.delete(url, headers=a1_key)
    assert r.status_code == 401
    r = await api.client.delete(url, headers={"X-Admin-Key": two_events["a1"]["participant_key"]})
    assert r.status_code == 403
    b1 = two_events["b1"]["participant"]["id"]
    r = await api.client.delete(
        f"/api/events/{a['token']}/participants/{b1}", headers={"X-Admin-Key": a["admin_key"]}
    )
    assert r.status_code == 404  # b1 is not in event A, even for A's admin
    view_b = (await api.client.get(f"/api/events/{two_events['b']['token']}")).json()
    assert [p["name"] for p in view_b["participants"]] == ["b1"]


async def test_unknown_and_malformed_tokens(api: Api) -> None:
    assert (await api.client.get("/api/events/AAAAAAAAAAAAAAAAAAAAAAAA")).status_code == 404
    assert (await api.client.get("/api/events/short")).status_code == 422
    assert (await api.client.get("/api/events/has%20space%20in%20it%20yes")).status_code == 422


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"timezone": "Mars/Olympus"}, "zone"),
        ({"timezone": ""}, "timezone"),
        ({"dates": ["2026-02-30"]}, "dates"),
        ({"dates": []}, "dates"),
        ({"dates": ["2026-12-01", "2026-12-01"]}, "unique"),
        ({"dates": [f"2027-01-{d:02d}" for d in range(1, 32)] * 3}, "dates"),
        ({"weekdays": ["mon"]}, "exactly one"),
        ({"day_start": "17:00", "day_end": "09:00"}, "end"),
        ({"day_start": "25:00"}, ""),
        ({"day_start": "09:10"}, ""),
        ({"slot_minutes": 45}, "slot_minutes"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 2001}, "description"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_invalid_event_input_is_422_with_a_message(
    api: Api, change: dict, needle: str
) -> None:
    r = await api.client.post("/api/events", json={**MINIMAL_EVENT, **change})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert needle.lower() in (problem["detail"] + str(problem.get("errors"))).lower()


async def test_oversized_and_non_json_bodies(api: Api) -> None:
    r = await api.client.post(
        "/api/events", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    token = (await api.create_event())["token"]
    key = {"X-Participant-Key": (await api.join(token, "Big"))["participant_key"]}
    r = await api.client.put(
        f"/api/events/{token}/participants/me/availability",
        json={"available": [[i, i + 1] for i in range(5000)]},
        headers=key,
    )
    assert r.status_code == 422
