"""The view engine at the API: best times from the cached view (no SQL), with the same
answers as the pure-Python oracle over the database; the per-participant range limit."""

import random
from typing import Any

from overlap_shared.bitmaps import MAX_RANGES_PER_PARTICIPANT
from overlap_shared.oracle.scoring import best_times as oracle_best
from overlap_shared.oracle.view import clean_bits
from overlap_shared.queries import load_snapshot_by_token

from tests.integration.conftest import Api


def avail(token: str) -> str:
    return f"/api/events/{token}/participants/me/availability"


async def seeded(api: Api, people: int) -> tuple[str, list[dict[str, Any]]]:
    token = (await api.create_event(day_start="00:00", day_end="24:00", slot_minutes=15))["token"]
    rng, joined = random.Random(people), []
    for i in range(people):
        me = await api.join(token, f"Engine {i}")
        ranges = sorted(rng.sample(range(0, 190, 4), 8))
        body = {"available": [[s, s + 2] for s in ranges], "if_needed": [[190, 192]]}
        key = {"X-Participant-Key": me["participant_key"]}
        assert (await api.client.put(avail(token), json=body, headers=key)).status_code == 200
        joined.append(me)
    return token, joined


async def test_best_times_on_a_cached_event_run_no_sql_and_match_the_oracle(api: Api) -> None:
    token, joined = await seeded(api, 6)
    view = await api.client.get(f"/api/events/{token}")  # cached from here on
    async with api.resources.engine.connect() as conn:
        snap = await load_snapshot_by_token(conn, token)
    assert snap is not None
    event, people = snap
    assert view.json()["version"] == event.version
    grid = event.grid
    ids = [p["participant"]["id"] for p in joined]
    cases: list[tuple[int, list[str], int]] = [
        (0, [], 10),
        (0, [], 3),
        (30, [], 10),
        (60, ids[:1], 50),
        (15, ids[:2], 20),
        (1440, [], 5),
    ]
    for min_minutes, required, limit in cases:
        params: dict[str, str | int] = {
            "min_minutes": min_minutes,
            "required": ",".join(required),
            "limit": limit,
        }
        api.sql.reset()
        r = await api.client.get(f"/api/events/{token}/best-times", params=params)
        assert r.status_code == 200, r.text
        assert api.sql.statements == []  # answered from the cached view
        expected = oracle_best(
            grid.slots_per_day,
            grid.slot_count,
            clean_bits(grid, people),
            grid.missing(),
            min_slots=max(1, min_minutes // grid.slot_minutes),
            required=required,
            limit=limit,
        )
        assert r.json() == {"version": event.version, "best": expected}, params


async def test_best_times_with_min_version_see_the_callers_write(api: Api) -> None:
    token, (me,) = await seeded(api, 1)
    await api.client.get(f"/api/events/{token}")  # cached before the write
    key = {"X-Participant-Key": me["participant_key"]}
    r = await api.client.put(avail(token), json={"available": [[40, 44]]}, headers=key)
    version = r.json()["version"]
    best = await api.client.get(
        f"/api/events/{token}/best-times", params={"min_version": version, "limit": 1}
    )
    assert best.json()["version"] >= version
    assert best.json()["best"][0]["start"] == 40 and best.json()["best"][0]["end"] == 44


async def test_more_ranges_than_the_limit_are_refused(api: Api) -> None:
    week = [f"2026-12-{d:02d}" for d in range(1, 8)]
    created = await api.create_event(
        dates=week, day_start="00:00", day_end="24:00", slot_minutes=15
    )
    token = created["token"]
    key = {"X-Participant-Key": (await api.join(token, "Many"))["participant_key"]}
    spread = [[2 * i, 2 * i + 1] for i in range(MAX_RANGES_PER_PARTICIPANT + 1)]
    r = await api.client.put(avail(token), json={"available": spread}, headers=key)
    assert r.status_code == 422 and "ranges" in r.json()["detail"]
    at_limit = spread[:MAX_RANGES_PER_PARTICIPANT]
    r = await api.client.put(avail(token), json={"available": at_limit}, headers=key)
    assert r.status_code == 200
    r = await api.client.patch(avail(token), json={"set_if_needed": [[600, 601]]}, headers=key)
    assert r.status_code == 422  # a PATCH that would pass the limit is refused too
    mine = (await api.client.get(f"/api/events/{token}/participants/me", headers=key)).json()
    assert mine["available"] == at_limit and mine["if_needed"] == []
