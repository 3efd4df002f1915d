"""The cache invalidator on the real stack: after it processed a change, no cache answers
with the old data; racing writes and reads converge; KEYS is never issued."""

import asyncio
import sys
import time
from collections.abc import Iterator

import jwt
import pytest
from overlap_shared.cache_keys import floor_key, meta_key
from overlap_shared.tagcache import clear_all
from overlap_shared.viewcache import ViewCache, version_of

from tests.conftest import Services
from tests.integration.conftest import Api
from tests.servers import free_port, process


@pytest.fixture(scope="module")
def workers(services: Services, migrated: str) -> Iterator[None]:
    env = {
        **services.env(),
    }
    a, i = free_port(), free_port()
    av = [sys.executable, "-m", "overlap_availability"]
    inv = [sys.executable, "-m", "overlap_invalidator"]
    with (
        process(
            av, {**env, "HEALTH_PORT": str(a)}, f"http://127.0.0.1:{a}/healthz", "availability"
        ),
        process(
            inv, {**env, "HEALTH_PORT": str(i)}, f"http://127.0.0.1:{i}/healthz", "invalidator"
        ),
    ):
        yield


async def settled(api: Api, token: str, version: int) -> None:
    """Wait (bounded) until the invalidator and the view worker both processed ``version``."""
    redis, cache = api.resources.redis, ViewCache(api.resources.redis, 1000)
    async with asyncio.timeout(30):
        while True:
            floor = int(await redis.get(floor_key(token)) or 0)
            view = await cache.get(token)
            if floor >= version and view is not None and (version_of(view) or 0) >= version:
                return
            await asyncio.sleep(0.02)


def me(token: str) -> str:
    return f"/api/events/{token}/participants/me"


@pytest.fixture
def stack(workers: None, relay: None) -> None:
    return None


async def test_rename_is_seen_by_the_session_cache(api: Api, stack: None) -> None:
    token = (await api.create_event())["token"]
    key = {"X-Participant-Key": (await api.join(token, "Old"))["participant_key"]}
    assert (await api.client.get(me(token), headers=key)).json()["participant"]["name"] == "Old"
    r = await api.client.patch(me(token), json={"name": "New"}, headers=key)
    await settled(api, token, r.json()["version"])
    assert (await api.client.get(me(token), headers=key)).json()["participant"]["name"] == "New"


@pytest.mark.parametrize("by_admin", [False, True])
async def test_leaving_or_removal_ends_the_session(api: Api, stack: None, by_admin: bool) -> None:
    created = await api.create_event()
    token = created["token"]
    joined = await api.join(token, "Leaver")
    key = {"X-Participant-Key": joined["participant_key"]}
    assert (await api.client.get(me(token), headers=key)).status_code == 200  # session cached
    if by_admin:
        url = f"/api/events/{token}/participants/{joined['participant']['id']}"
        r = await api.client.delete(url, headers={"X-Admin-Key": created["admin_key"]})
    else:
        r = await api.client.delete(me(token), headers=key)
    assert r.status_code == 204
    await settled(api, token, 3)  # created 1, joined 2, left or removed 3
    assert (await api.client.get(me(token), headers=key)).status_code == 403


async def test_editing_and_finalizing_refresh_metadata(api: Api, stack: None) -> None:
    created = await api.create_event()
    token, admin = created["token"], {"X-Admin-Key": created["admin_key"]}
    caches = api.wiring.caches
    async with api.resources.reading() as conn:
        from overlap_api.reads.queries import snapshot

        event, _ = await snapshot(conn, token)
    await caches.put_meta(event)
    cached = await caches.get_meta(token)
    assert cached is not None and cached.title == "Planning"
    r = await api.client.patch(f"/api/events/{token}", json={"title": "Edited"}, headers=admin)
    await settled(api, token, r.json()["version"])
    # The invalidator raises the floor, then unlinks the tags' members in a second round trip.
    async with asyncio.timeout(10):
        while await api.resources.redis.get(meta_key(token)) is not None:
            await asyncio.sleep(0.02)
    api.wiring.local.meta.clear()
    assert await caches.get_meta(token) is None
    assert (await api.client.get(f"/api/events/{token}")).json()["event"]["title"] == "Edited"
    r = await api.client.post(
        f"/api/events/{token}/finalize", json={"start": 0, "end": 1}, headers=admin
    )
    await settled(api, token, r.json()["version"])
    assert (await api.client.get(f"/api/events/{token}")).json()["event"]["status"] == "finalized"


async def test_deleting_clears_everything_and_my_events_follow(api: Api, stack: None) -> None:
    secret = api.resources.settings.jwt_secret
    user = f"u-{time.time_ns()}"
    bearer = {
        "Authorization": "Bearer " + jwt.encode({"sub": user, "exp": time.time() + 600}, secret)
    }
    body = {
        "title": "Mine",
        "timezone": "UTC",
        "dates": ["2026-12-01"],
        "day_start": "09:00",
        "day_end": "10:00",
        "slot_minutes": 30,
    }
    first = (await api.client.post("/api/events", json=body, headers=bearer)).json()
    listed = (await api.client.get("/api/me/events", headers=bearer)).json()
    assert [e["token"] for e in listed["events"]] == [first["token"]]
    second = (await api.client.post("/api/events", json=body, headers=bearer)).json()
    await settled(api, second["token"], 1)
    async with asyncio.timeout(10):
        while len((await api.client.get("/api/me/events", headers=bearer)).json()["events"]) != 2:
            await asyncio.sleep(0.02)
    token = first["token"]
    key = {"X-Participant-Key": (await api.join(token, "P"))["participant_key"]}
    await api.client.get(me(token), headers=key)
    r = await api.client.delete(f"/api/events/{token}", headers={"X-Admin-Key": first["admin_key"]})
    assert r.status_code == 204
    await settled_deleted(api, token)
    assert (await api.client.get(f"/api/events/{token}")).status_code == 404
    assert (await api.client.get(me(token), headers=key)).status_code == 404
    async with asyncio.timeout(10):
        while len((await api.client.get("/api/me/events", headers=bearer)).json()["events"]) != 1:
            await asyncio.sleep(0.02)


async def settled_deleted(api: Api, token: str) -> None:
    async with asyncio.timeout(30):
        while not (await ViewCache(api.resources.redis, 1000).get(token) or b"").endswith(
            b'"deleted":true}'
        ):
            await asyncio.sleep(0.02)


async def test_racing_writes_and_reads_converge_on_postgresql(api: Api, stack: None) -> None:
    created = await api.create_event()
    token = created["token"]
    people = [await api.join(token, f"R{i}") for i in range(6)]
    keys = [{"X-Participant-Key": p["participant_key"]} for p in people]

    async def writer(i: int) -> None:
        for n in range(8):
            await api.client.patch(me(token), json={"name": f"R{i}-{n}"}, headers=keys[i])
            await api.client.patch(
                f"{me(token)}/availability", json={"set_available": [[n, n + 1]]}, headers=keys[i]
            )

    async def reader(i: int) -> None:
        for _ in range(20):
            await api.client.get(me(token), headers=keys[i])
            await api.client.get(f"/api/events/{token}")

    await asyncio.gather(*(writer(i) for i in range(6)), *(reader(i) for i in range(6)))
    async with api.resources.reading() as conn:
        from overlap_api.reads.queries import snapshot

        event, rows = await snapshot(conn, token)
    await settled(api, token, event.version)
    view = (await api.client.get(f"/api/events/{token}")).json()
    assert view["version"] == event.version
    assert {p["name"] for p in view["participants"]} == {r.name for r in rows}
    for i, k in enumerate(keys):
        answer = (await api.client.get(me(token), headers=k)).json()
        assert answer["participant"]["name"] == f"R{i}-7"
        assert answer["available"] == [[0, 8]]


async def test_keys_is_never_called_and_clear_all_spares_other_keys(api: Api) -> None:
    redis = api.resources.redis
    await redis.set("not-overlap:keep", b"1")
    await redis.set("ov:{x}:view", b"1")
    assert await clear_all(redis) >= 1
    assert await redis.get("ov:{x}:view") is None
    assert await redis.get("not-overlap:keep") == b"1"
    await redis.delete("not-overlap:keep")
    stats = await redis.info("commandstats")
    assert "cmdstat_keys" not in stats, stats.get("cmdstat_keys")
