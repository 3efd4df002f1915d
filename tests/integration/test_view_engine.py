"""The view engine with the real worker: 1,000 mixed writes through the API across 20
events, then every event's view in Redis equals a full pure-Python rebuild from
PostgreSQL; the worker took the delta path, checked it, and found no mismatch."""

import asyncio
import random
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from overlap_shared.oracle.view import build_view as oracle_view
from overlap_shared.queries import load_snapshot_by_token
from overlap_shared.viewcache import ViewCache, version_of

from tests.conftest import Services
from tests.integration.conftest import Api
from tests.servers import free_port, process

RETENTION_DAYS = 90  # the services' default policy (RETENTION_DAYS), in event.expires_at

EVENTS, WRITES = 20, 1_000
# Slot starts on both days of the grid, away from the DST gap (slots 104-107) and from
# the slots a shorter day_end removes.
STARTS = [s for s in range(0, 180, 3) if not 100 <= s < 110]


@pytest.fixture(scope="module")
def checked_worker(services: Services, migrated: str) -> Iterator[str]:
    """One availability worker that checks every delta against a full rebuild."""
    port = free_port()
    env = {**services.env(), "HEALTH_PORT": str(port), "CONSISTENCY_SAMPLE": "1.0"}
    args = [sys.executable, "-m", "overlap_availability"]
    with process(args, env, f"http://127.0.0.1:{port}/healthz", "availability", ready_s=120):
        yield f"http://127.0.0.1:{port}/metrics"


class Writer:
    """Random writes of every kind against one event, through the API."""

    def __init__(self, api: Api, created: dict[str, Any], rng: random.Random) -> None:
        self.api, self.rng = api, rng
        self.token = created["token"]
        self.admin = {"X-Admin-Key": created["admin_key"]}
        self.people: list[dict[str, Any]] = []
        self.url = f"/api/events/{self.token}"

    async def join(self) -> None:
        name = f"p{self.rng.getrandbits(40)}"
        r = await self.api.client.post(f"{self.url}/participants", json={"name": name})
        if r.status_code == 201:
            self.people.append(r.json())

    def ranges(self) -> list[list[int]]:
        starts = sorted(self.rng.sample(STARTS, self.rng.randint(0, 6)))
        return [[s, s + self.rng.randint(1, 2)] for s in starts]

    async def write(self) -> None:
        if not self.people or self.rng.random() < 0.08:
            return await self.join()
        who = self.rng.choice(self.people)
        key = {"X-Participant-Key": who["participant_key"]}
        roll, client = self.rng.random(), self.api.client
        me = f"{self.url}/participants/me"
        if roll < 0.45:
            body = {"available": self.ranges(), "if_needed": [[95, 96]]}
            await client.put(f"{me}/availability", json=body, headers=key)
        elif roll < 0.65:
            body = {"set_if_needed": self.ranges(), "clear": self.ranges()[:1]}
            await client.patch(f"{me}/availability", json=body, headers=key)
        elif roll < 0.75:
            await client.patch(me, json={"name": f"r{self.rng.getrandbits(40)}"}, headers=key)
        elif roll < 0.82:
            self.people.remove(who)
            if self.rng.random() < 0.5:
                await client.delete(me, headers=key)
            else:
                pid = who["participant"]["id"]
                await client.delete(f"{self.url}/participants/{pid}", headers=self.admin)
        elif roll < 0.92:
            title = {"title": f"t{self.rng.getrandbits(20)}"}
            await client.patch(self.url, json=title, headers=self.admin)
        else:  # a grid edit: the worker must rebuild in full
            day_end = self.rng.choice(["23:00", "24:00"])
            await client.patch(self.url, json={"day_end": day_end}, headers=self.admin)


async def metric(url: str, name: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(url)).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


async def settled_view(api: Api, token: str) -> tuple[bytes, bytes]:
    """The view in Redis once it reached the database's version, and the oracle's."""
    cache = ViewCache(api.resources.redis, 1_000)
    async with asyncio.timeout(90):
        while True:
            async with api.resources.engine.connect() as conn:
                snap = await load_snapshot_by_token(conn, token)
            assert snap is not None
            cached = await cache.get(token)
            if cached is not None and version_of(cached) == snap[0].version:
                return cached, orjson.dumps(oracle_view(*snap, retention_days=RETENTION_DAYS))
            await asyncio.sleep(0.1)


@pytest.mark.timeout(900)  # a thousand writes on a shared, slow machine
async def test_1000_mixed_writes_leave_every_view_equal_to_a_full_rebuild(
    api: Api, checked_worker: str, relay: None
) -> None:
    rng = random.Random(14)
    writers = []
    for i in range(EVENTS):
        created = await api.create_event(
            title=f"engine {i}",
            timezone="America/New_York",
            dates=["2026-03-07", "2026-03-08"],  # the DST gap: missing slots
            day_start="00:00",
            day_end="24:00",
            slot_minutes=15,
        )
        writers.append(Writer(api, created, rng))
    for _ in range(WRITES // EVENTS):
        await asyncio.gather(*(w.write() for w in writers))
    for w in writers:
        cached, expected = await settled_view(api, w.token)
        assert cached == expected, w.token
    assert await metric(checked_worker, 'availability_refreshes_total{how="delta"') > 0
    assert await metric(checked_worker, "availability_consistency_checks_total") > 0
    assert await metric(checked_worker, "availability_consistency_mismatches_total") == 0
