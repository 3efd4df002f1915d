"""Joining, renaming, leaving, removal and availability on real PostgreSQL."""

import asyncio
import time

import jwt
from overlap_shared.models import Participant
from sqlalchemy import select

from tests.integration.conftest import Api


def avail(token: str) -> str:
    return f"/api/events/{token}/participants/me/availability"


async def test_join_rename_leave(api: Api) -> None:
    token = (await api.create_event())["token"]
    me = await api.join(token, "Ada")
    key = {"X-Participant-Key": me["participant_key"]}
    assert me["version"] == 2
    r = await api.client.patch(
        f"/api/events/{token}/participants/me", json={"name": "Ada L."}, headers=key
    )
    assert r.status_code == 200 and r.json()["participant"]["name"] == "Ada L."
    r = await api.client.get(f"/api/events/{token}/participants/me", headers=key)
    assert r.json()["participant"] == {"id": me["participant"]["id"], "name": "Ada L."}
    r = await api.client.delete(f"/api/events/{token}/participants/me", headers=key)
    assert r.status_code == 204
    view = (await api.client.get(f"/api/events/{token}")).json()
    assert view["participants"] == [] and view["version"] == 4
    r = await api.client.get(f"/api/events/{token}/participants/me", headers=key)
    assert r.status_code == 403


async def test_names_are_unique_after_nfkc_and_casefold(api: Api) -> None:
    token = (await api.create_event())["token"]
    await api.join(token, "Straße")
    r = await api.client.post(f"/api/events/{token}/participants", json={"name": "STRASSE"})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    r = await api.client.post(f"/api/events/{token}/participants", json={"name": "ｓｔｒａßｅ"})
    assert r.status_code == 409


async def test_unicode_and_blank_names(api: Api) -> None:
    token = (await api.create_event())["token"]
    ok = await api.join(token, "  Zoë 🦊  ")
    assert ok["participant"]["name"] == "Zoë 🦊"
    for bad in ["", "   ", "a\u0000b", "x" * 81, "bad\u200bname"]:
        r = await api.client.post(f"/api/events/{token}/participants", json={"name": bad})
        assert r.status_code == 422, bad


async def test_keys_are_stored_only_as_hashes(api: Api) -> None:
    created = await api.create_event()
    me = await api.join(created["token"], "Hash")
    async with api.resources.reading() as conn:
        stored = (
            (await conn.execute(select(Participant.key_hash).where(Participant.name == "Hash")))
            .scalars()
            .all()
        )
    assert all(len(h) == 32 and me["participant_key"].encode() not in h for h in stored)


async def test_put_and_patch_availability(api: Api) -> None:
    token = (await api.create_event())["token"]
    me = await api.join(token, "Bo")
    key = {"X-Participant-Key": me["participant_key"]}
    r = await api.client.put(
        avail(token), json={"available": [[0, 4], [2, 6]], "if_needed": [[10, 12]]}, headers=key
    )
    assert r.status_code == 200, r.text
    assert r.json()["available"] == [[0, 6]] and r.json()["if_needed"] == [[10, 12]]
    r = await api.client.patch(
        avail(token),
        json={"clear": [[0, 1]], "set_if_needed": [[5, 7]], "set_available": [[11, 12]]},
        headers=key,
    )
    assert r.status_code == 200, r.text
    assert r.json()["available"] == [[1, 5], [11, 12]]
    assert r.json()["if_needed"] == [[5, 7], [10, 11]]
    view = (await api.client.get(f"/api/events/{token}")).json()
    assert view["version"] == r.json()["version"]
    assert view["heatmap"]["available"][:7] == [0, 1, 1, 1, 1, 0, 0]
    assert view["heatmap"]["if_needed"][5:7] == [1, 1]


async def test_overlapping_levels_and_out_of_range_are_422(api: Api) -> None:
    token = (await api.create_event())["token"]
    key = {"X-Participant-Key": (await api.join(token, "Cy"))["participant_key"]}
    cases = [
        {"available": [[0, 4]], "if_needed": [[3, 5]]},
        {"available": [[0, 33]]},
        {"available": [[4, 4]]},
        {"available": [[-1, 2]]},
        {"available": [[0, 1, 2]]},
        {"available": [["0", 1]]},
        {"available": [[0, 1]] * 1001},
        {"available": [], "extra": True},
    ]
    for body in cases:
        r = await api.client.put(avail(token), json=body, headers=key)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"], body


async def test_dst_gap_slots_cannot_be_marked(api: Api) -> None:
    created = await api.create_event(
        timezone="America/New_York", dates=["2026-03-08"], day_start="01:00", day_end="04:00"
    )
    token = created["token"]
    view = (await api.client.get(f"/api/events/{token}")).json()
    assert view["slots"]["missing"] == [2, 3]  # 02:00 and 02:30 do not exist that night
    assert view["slots"]["starts_utc"][2] is None
    key = {"X-Participant-Key": (await api.join(token, "Dee"))["participant_key"]}
    r = await api.client.put(avail(token), json={"available": [[1, 3]]}, headers=key)
    assert r.status_code == 422 and "2" in r.json()["detail"]
    r = await api.client.put(avail(token), json={"available": [[0, 2], [4, 6]]}, headers=key)
    assert r.status_code == 200


async def test_admin_removes_a_participant(api: Api) -> None:
    created = await api.create_event()
    token = created["token"]
    me = await api.join(token, "Gone")
    pid = me["participant"]["id"]
    url = f"/api/events/{token}/participants/{pid}"
    assert (await api.client.delete(url)).status_code == 401
    assert (await api.client.delete(url, headers={"X-Admin-Key": "wrong"})).status_code == 403
    r = await api.client.delete(url, headers={"X-Admin-Key": created["admin_key"]})
    assert r.status_code == 204
    r = await api.client.delete(url, headers={"X-Admin-Key": created["admin_key"]})
    assert r.status_code == 404


async def test_concurrent_writers_lose_nothing(api: Api) -> None:
    token = (await api.create_event())["token"]
    people = [await api.join(token, f"P{i}") for i in range(12)]

    async def write(i: int, person: dict) -> int:
        key = {"X-Participant-Key": person["participant_key"]}
        r = await api.client.patch(avail(token), json={"set_available": [[i, i + 1]]}, headers=key)
        assert r.status_code == 200, r.text
        return int(r.json()["version"])

    versions = await asyncio.gather(*(write(i, p) for i, p in enumerate(people)))
    # and the same participant patching many slots at once
    key = {"X-Participant-Key": people[0]["participant_key"]}
    await asyncio.gather(
        *(
            api.client.patch(avail(token), json={"set_if_needed": [[20 + j, 21 + j]]}, headers=key)
            for j in range(8)
        )
    )
    view = (await api.client.get(f"/api/events/{token}")).json()
    assert sorted(versions) == list(range(14, 26))  # every write got its own version
    assert view["heatmap"]["available"][:12] == [1] * 12
    assert view["heatmap"]["if_needed"][20:28] == [1] * 8
    assert view["version"] == 33


async def test_best_times_with_min_minutes_and_required(api: Api) -> None:
    token = (await api.create_event())["token"]
    a, b = await api.join(token, "A"), await api.join(token, "B")
    await api.client.put(
        avail(token),
        json={"available": [[0, 6]]},
        headers={"X-Participant-Key": a["participant_key"]},
    )
    await api.client.put(
        avail(token),
        json={"available": [[2, 4]], "if_needed": [[4, 8]]},
        headers={"X-Participant-Key": b["participant_key"]},
    )
    r = await api.client.get(f"/api/events/{token}/best-times", params={"min_minutes": 60})
    assert r.status_code == 200, r.text
    best = r.json()["best"]
    assert best[0]["start"] == 2 and best[0]["end"] == 4 and best[0]["score"] == 2.0
    r = await api.client.get(
        f"/api/events/{token}/best-times",
        params={"required": b["participant"]["id"], "min_minutes": 90},
    )
    assert all(
        b["participant"]["id"] in blk["available"] + blk["if_needed"] for blk in r.json()["best"]
    )
    assert (
        await api.client.get(f"/api/events/{token}/best-times", params={"min_minutes": 45})
    ).status_code == 422
    assert (
        await api.client.get(f"/api/events/{token}/best-times", params={"required": "nobody"})
    ).status_code == 422


async def test_my_events_with_a_bearer_token(api: Api) -> None:
    secret = api.resources.settings.jwt_secret
    user = f"user-{time.time_ns()}"
    bearer = {
        "Authorization": "Bearer " + jwt.encode({"sub": user, "exp": time.time() + 600}, secret)
    }
    r = await api.client.post(
        "/api/events",
        json={
            "title": "Mine",
            "timezone": "UTC",
            "weekdays": ["mon"],
            "day_start": "09:00",
            "day_end": "10:00",
            "slot_minutes": 60,
        },
        headers=bearer,
    )
    mine = r.json()["token"]
    other = (await api.create_event(title="Joined"))["token"]
    r = await api.client.post(
        f"/api/events/{other}/participants", json={"name": "Me"}, headers=bearer
    )
    assert r.status_code == 201
    r = await api.client.get("/api/me/events", headers=bearer, params={"limit": 1})
    assert r.status_code == 200
    first = r.json()
    assert len(first["events"]) == 1 and first["next_cursor"]
    r = await api.client.get(
        "/api/me/events", headers=bearer, params={"cursor": first["next_cursor"]}
    )
    second = r.json()
    roles = {e["token"]: e["role"] for e in first["events"] + second["events"]}
    assert roles == {mine: "admin", other: "participant"}
    assert second["next_cursor"] is None
    assert (await api.client.get("/api/me/events")).status_code == 401
    expired = jwt.encode({"sub": user, "exp": time.time() - 10}, secret)
    r = await api.client.get("/api/me/events", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    forged = jwt.encode({"sub": user, "exp": time.time() + 60}, "another-secret-entirely")
    r = await api.client.get("/api/me/events", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
