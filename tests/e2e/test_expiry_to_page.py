"""The retention job end to end: `overlap-expire` (a real process) deletes an expired event;
the relay, the availability worker, the cache-invalidator and the notifier (real processes)
clear it from Redis and tell a subscribed websocket client ``event.deleted``."""

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Iterator

import pytest
from overlap_shared.cache_keys import meta_key, view_key
from overlap_shared.topics import AVAILABILITY_GROUP, INVALIDATOR_GROUP, NOTIFIER_GROUP
from overlap_shared.viewcache import is_tombstone
from sqlalchemy import text

from tests.conftest import Services
from tests.integration.conftest import Api
from tests.kafka_tail import group_stable
from tests.pusher_client import socket, subscribe_private
from tests.servers import free_port, process

WORKERS = {
    "overlap_availability": "e2e-exp-av",
    "overlap_invalidator": "e2e-exp-inv",
    "overlap_notifier": "e2e-exp-nt",
}


@pytest.fixture(scope="module")
def workers(services: Services, migrated: str) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for module, name in WORKERS.items():
            port = free_port()
            env = {**services.env(), "HEALTH_PORT": str(port)}
            ready = f"http://127.0.0.1:{port}/healthz"
            stack.enter_context(process([sys.executable, "-m", module], env, ready, name))
        yield


async def run_expire(services: Services, retention_days: int) -> int:
    """One run of the `overlap-expire` entry point; what it printed: the events it deleted."""
    env = {**services.env(), "RETENTION_DAYS": str(retention_days)}
    job = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "overlap_api.expire_main",
        "--batch-size",
        "2",
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(job.communicate(), 60)
    assert job.returncode == 0
    return int(out.decode().strip().splitlines()[-1])


async def event_keys(api: Api, token: str) -> dict[str, bytes]:
    """Every Redis key of this event (its hash tag) with its value, where it is a string."""
    redis = api.resources.redis
    found: dict[str, bytes] = {}
    async for key in redis.scan_iter(match=f"ov:{{{token}}}:*", count=1000):
        name = key.decode() if isinstance(key, bytes) else str(key)
        value = await redis.get(name) if await redis.type(name) in (b"string", "string") else b""
        found[name] = value if isinstance(value, bytes) else str(value or "").encode()
    return found


async def test_an_expired_event_leaves_postgresql_redis_and_open_pages(
    api: Api, services: Services, workers: None, relay: None
) -> None:
    created = await api.create_event(dates=["2025-06-02"])
    token = created["token"]
    key = (await api.join(token, "Long Gone"))["participant_key"]
    assert (await api.client.get(f"/api/events/{token}")).status_code == 200  # cached view
    me = await api.client.get(
        f"/api/events/{token}/participants/me", headers={"X-Participant-Key": key}
    )
    assert me.status_code == 200  # cached session
    for group in (AVAILABILITY_GROUP, INVALIDATOR_GROUP, NOTIFIER_GROUP):
        await group_stable(services.kafka_bootstrap_servers, group, members=1)
    async with socket(services) as client:
        channel = await subscribe_private(client, api.client, created)  # caches the metadata
        assert meta_key(token) in await event_keys(api, token)
        async with api.resources.transaction() as conn:
            await conn.execute(
                text("UPDATE events SET updated_at = now() - interval '91 days' WHERE token = :t"),
                {"t": token},
            )
        assert await run_expire(services, retention_days=0) == 0  # off: nothing goes
        assert await run_expire(services, retention_days=90) >= 1

        def deleted(m: dict) -> bool:
            return m.get("channel") == channel and m.get("event") == "event.deleted"

        await client.wait_for(deleted, limit_s=30)
    async with api.resources.reading() as conn:
        rows = await conn.execute(
            text("SELECT count(*) FROM events WHERE token = :t"), {"t": token}
        )
        assert rows.scalar_one() == 0
    deadline = time.monotonic() + 15
    while True:  # the invalidator and the availability worker work on their own schedules
        keys = await event_keys(api, token)
        view = keys.get(view_key(token))
        cleared = not [k for k in keys if ":session:" in k or k == meta_key(token)]
        if (cleared and view is not None and is_tombstone(view)) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert view is not None and is_tombstone(view), view
    assert cleared, sorted(keys)
    assert not [k for k, v in keys.items() if b"Long Gone" in v]
    assert (await api.client.get(f"/api/events/{token}")).status_code == 404
