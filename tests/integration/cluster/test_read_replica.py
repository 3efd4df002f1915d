"""The PostgreSQL streaming replica of ``make test-cluster`` (DATABASE_REPLICA_URL): cache
misses read it, a reader's own write (``min_version``) is read from the primary at once
(not the replica first), and the lag shows in the monitor and ``/metrics``. The replica's replay is
paused (``pg_wal_replay_pause``) to hold it behind for certain. These tests run an API of
their own with ``DATABASE_REPLICA_URL`` (``make test-cluster`` passes the replica's URL as
REPLICA_DATABASE_URL): the other tests keep reading the primary, as their plain reads right
after a write expect."""

import asyncio
import os
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from overlap_api.app import create_app
from overlap_api.settings import Settings
from overlap_api.wiring import wire
from overlap_shared.cache_keys import view_key
from prometheus_client import REGISTRY

from tests.conftest import Services
from tests.integration.conftest import Api, SqlCounter


@pytest.fixture(scope="module")
async def api(services: Services, migrated: str) -> AsyncIterator[Api]:
    """An API whose misses read the replica."""
    settings = Settings(
        database_url=services.database_url,
        database_replica_url=os.environ["REPLICA_DATABASE_URL"],
        redis_url=services.redis_url,
        kafka_bootstrap_servers=services.kafka_bootstrap_servers,
        environment="test",
        rate_limits_enabled=False,
        relay_enabled=False,
    )
    app = create_app(settings)
    async with wire(app, settings) as wiring:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://overlap.test") as c:
            yield Api(c, wiring, SqlCounter(), app)


async def superuser_on_replica() -> asyncpg.Connection:
    port = int(os.environ["PG_REPLICA_PORT"])
    return await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="postgres")


@pytest.fixture
async def paused_replica() -> AsyncIterator[asyncpg.Connection]:
    """The replica's superuser connection; replay is resumed whatever the test did."""
    conn = await superuser_on_replica()
    try:
        yield conn
    finally:
        await conn.execute("select pg_wal_replay_resume()")
        await conn.close()


async def forget(api: Api, token: str) -> None:
    """Out of Redis and this process's L1: the next read is a miss (after the write-backs
    of the reads so far, which would otherwise land after the delete)."""
    await api.wiring.views.write_behind.drain()
    api.wiring.local.clear()
    await api.resources.redis.delete(view_key(token))


async def read_version(api: Api, token: str, min_version: int | None = None) -> int:
    query = "" if min_version is None else f"?min_version={min_version}"
    r = await api.client.get(f"/api/events/{token}{query}")
    assert r.status_code == 200, r.text
    version: int = r.json()["version"]
    return version


def replica_read_count(outcome: str) -> float:
    return REGISTRY.get_sample_value("replica_reads_total", {"outcome": outcome}) or 0.0


async def caught_up(api: Api) -> None:
    async with asyncio.timeout(30):
        while (await lag(api))["lag_bytes"] > 0:
            await asyncio.sleep(0.05)


async def lag(api: Api) -> dict[str, float]:
    r = await api.client.get(
        "/api/performance/monitor",
        headers={"X-Operator-Key": api.resources.settings.operator_key},
    )
    assert r.status_code == 200, r.text
    replica: dict[str, float] = r.json()["replica"]
    assert replica["configured"] is True, replica
    return replica


async def test_misses_read_the_replica_and_own_writes_the_primary(
    api: Api, paused_replica: asyncpg.Connection
) -> None:
    assert api.resources.replica is not None
    created = await api.create_event(title="Replica")
    token = created["token"]
    key = (await api.join(token, "Ada"))["participant_key"]
    await caught_up(api)
    before = await read_version(api, token)

    await paused_replica.execute("select pg_wal_replay_pause()")
    r = await api.client.put(
        f"/api/events/{token}/participants/me/availability",
        json={"available": [[0, 3]]},
        headers={"X-Participant-Key": key},
    )
    written = r.json()["version"]
    assert written > before
    await forget(api, token)
    replica_reads = replica_read_count("replica")
    assert await read_version(api, token, min_version=written) == written  # the primary ...
    assert replica_read_count("replica") == replica_reads  # ... at once: one rebuild, not two
    await forget(api, token)
    assert await read_version(api, token) == before  # a plain miss: the replica, behind
    behind = await lag(api)
    assert behind["lag_bytes"] > 0 and behind["lag_s"] > 0
    assert (REGISTRY.get_sample_value("replica_lag_bytes") or 0) > 0

    await paused_replica.execute("select pg_wal_replay_resume()")
    await caught_up(api)
    await forget(api, token)
    assert await read_version(api, token) == written  # replayed: the replica has it now
    assert REGISTRY.get_sample_value("replica_lag_bytes") == 0


async def test_an_event_the_replica_lacks_is_read_from_the_primary(
    api: Api, paused_replica: asyncpg.Connection
) -> None:
    await paused_replica.execute("select pg_wal_replay_pause()")
    created = await api.create_event(title="Too new for the replica")
    await forget(api, created["token"])
    assert await read_version(api, created["token"]) == created["version"]
