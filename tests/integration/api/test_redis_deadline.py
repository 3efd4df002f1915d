"""A paused Redis costs a read one deadline, then PostgreSQL answers (real Redis, paused
with ``CLIENT PAUSE ... ALL``: connections are accepted, no command is answered)."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from overlap_api.participants.me import read_me_cached
from overlap_api.reads.caches import Caches
from overlap_api.reads.views import ViewReader
from overlap_api.wiring import Wiring
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from tests.integration.conftest import Api

PAUSE_MS = 3_000
GENEROUS_S = 2.5  # the budget is 1 s; the old path waited 2 s per call, several calls a read


@asynccontextmanager
async def paused(api: Api) -> AsyncIterator[None]:
    """Redis holds every client's commands for PAUSE_MS; wait that out before leaving (under
    ``CLIENT PAUSE ALL`` even ``CLIENT UNPAUSE`` waits)."""
    admin = Redis.from_url(str(api.resources.settings.redis_url))
    await admin.execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")
    ends = time.monotonic() + PAUSE_MS / 1000
    try:
        yield
    finally:
        await asyncio.sleep(max(0.0, ends - time.monotonic()) + 0.1)
        await admin.aclose()


def counters() -> tuple[float, float]:
    """Redis read deadlines so far, and views rebuilt from PostgreSQL so far."""
    deadlines = REGISTRY.get_sample_value("redis_read_deadlines_total") or 0.0
    return deadlines, REGISTRY.get_sample_value("view_recomputes_total") or 0.0


async def fresh_readers(api: Api) -> tuple[ViewReader, Caches]:
    """A reader with an empty L1 and no backoff, like a process meeting the pause first."""
    wiring = Wiring.build(api.resources, api.wiring.pusher)
    return wiring.views, wiring.caches


async def test_a_view_read_spends_one_deadline_then_answers_from_sql(api: Api) -> None:
    created = await api.create_event()
    token = created["token"]
    await api.client.get(f"/api/events/{token}")
    await api.wiring.views.write_behind.drain()  # the view is in Redis
    views, _ = await fresh_readers(api)
    deadlines, recomputes = counters()
    async with paused(api):
        started = time.monotonic()
        body = await views.read(token, None)
        took = time.monotonic() - started
    assert orjson.loads(body)["version"] == created["version"]
    assert counters()[0] - deadlines == 1  # the view GET, then no other call
    assert counters()[1] - recomputes == 1  # served from PostgreSQL
    assert took < GENEROUS_S, took


async def test_a_session_lookup_shares_the_deadline_of_its_read(api: Api) -> None:
    token = (await api.create_event())["token"]
    me = await api.join(token, "Ana")
    key = {"X-Participant-Key": me["participant_key"]}
    assert (
        await api.client.get(f"/api/events/{token}/participants/me", headers=key)
    ).status_code == 200
    views, caches = await fresh_readers(api)
    deadlines, _ = counters()
    async with paused(api):
        started = time.monotonic()
        answer = await read_me_cached(caches, views, token, me["participant_key"])
        took = time.monotonic() - started
    assert answer["participant"]["name"] == "Ana"
    assert counters()[0] - deadlines == 1  # session GET only; write-back skipped
    assert took < GENEROUS_S, took
