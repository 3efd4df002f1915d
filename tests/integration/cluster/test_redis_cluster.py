"""Overlap on a 3-primary Redis Cluster (``make test-cluster``): clear-all reaches every
primary, the L1 eviction channel is sharded pub/sub, and a lost primary costs reads of its
events a trip to PostgreSQL, never an error or a lost write."""

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from overlap_shared.cache_keys import L1_CHANNEL, view_key
from overlap_shared.eviction_channel import announce, messages
from overlap_shared.tagcache import clear_all
from overlap_shared.viewcache import ViewCache, version_of
from redis.asyncio import RedisCluster
from redis.asyncio.cluster import ClusterNode

from tests.conftest import ROOT
from tests.integration.conftest import Api

SCALE_OUT = str(ROOT / "deploy/local/scale-out.sh")


def owner(redis: RedisCluster, key: str) -> ClusterNode:
    node = redis.get_node_from_key(key)
    assert node is not None, key
    return node


def cluster_of(api: Api) -> RedisCluster:
    redis = api.resources.redis
    assert isinstance(redis, RedisCluster), "make test-cluster sets REDIS_CLUSTER=true"
    return redis


async def test_the_client_sees_three_primaries(api: Api) -> None:
    redis = cluster_of(api)
    await redis.initialize()
    assert len(redis.get_primaries()) == 3


async def test_clear_all_scans_every_primary(api: Api) -> None:
    redis = cluster_of(api)
    keys = [view_key(uuid.uuid4().hex) for _ in range(60)]
    for key in keys:
        await redis.set(key, b"1")
    await redis.set("not-overlap:keep", b"1")
    owners = {owner(redis, k).name for k in keys}
    assert len(owners) == 3  # 60 random tags land on every primary
    assert await clear_all(redis) >= len(keys)
    assert [await redis.get(k) for k in keys] == [None] * len(keys)
    assert await redis.get("not-overlap:keep") == b"1"
    await redis.delete("not-overlap:keep")


async def test_the_eviction_channel_is_sharded_pub_sub(api: Api) -> None:
    redis = cluster_of(api)
    listener = messages(redis)
    first = asyncio.ensure_future(anext(listener))
    got: bytes | None = None
    async with asyncio.timeout(10):
        while not first.done():  # subscribed once a message gets through
            await announce(redis, "tok:7")
            await asyncio.sleep(0.05)
        got = first.result()
    subscribers = await redis.pubsub_shardnumsub(L1_CHANNEL, target_nodes=RedisCluster.PRIMARIES)
    await listener.aclose()
    assert got == b"tok:7"
    assert dict(subscribers)[L1_CHANNEL.encode()] >= 2  # this test's and the API's listener


async def scale_out(*args: str) -> None:
    """deploy/local/scale-out.sh with ``args`` (stop or start one node), off the event loop."""
    await asyncio.to_thread(subprocess.run, [SCALE_OUT, *args], check=True, timeout=60, cwd=ROOT)


def node_name(port: int) -> str:
    """The scale-out.sh name of the node on ``port``."""
    return f"redis-cluster-{port - int(os.environ['REDIS_CLUSTER_PORT']) + 1}"


@pytest.fixture
def lost_primary(api: Api) -> Iterator[dict[str, str]]:
    """Kills the primary that holds the first of the events the test creates, and brings it
    back (empty) afterwards. ``killed["node"]`` is set by the test."""
    killed: dict[str, str] = {}
    yield killed
    if "node" in killed:
        subprocess.run([SCALE_OUT, "start", killed["node"]], check=True, timeout=60, cwd=ROOT)


async def put(api: Api, token: str, key: str, ranges: list[list[int]]) -> int:
    r = await api.client.put(
        f"/api/events/{token}/participants/me/availability",
        json={"available": ranges},
        headers={"X-Participant-Key": key},
    )
    assert r.status_code == 200, r.text
    version: int = r.json()["version"]
    return version


async def view(api: Api, token: str, min_version: int | None = None) -> dict[str, Any]:
    query = "" if min_version is None else f"?min_version={min_version}"
    r = await api.client.get(f"/api/events/{token}{query}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.stops_shared_services
async def test_a_lost_primary_costs_reads_postgresql_and_loses_nothing(
    api: Api, lost_primary: dict[str, str]
) -> None:
    redis = cluster_of(api)
    events: dict[str, tuple[str, int]] = {}  # token -> (participant key, last version)
    for n in range(12):
        token = (await api.create_event(title=f"Cluster {n}"))["token"]
        key = (await api.join(token, "Ada"))["participant_key"]
        events[token] = (key, await put(api, token, key, [[0, n + 1]]))
        assert (await view(api, token))["version"] == events[token][1]  # cached now
    victim = owner(redis, view_key(next(iter(events))))
    lost = [t for t in events if owner(redis, view_key(t)).name == victim.name]
    lost_primary["node"] = node_name(int(victim.port))
    await scale_out("stop", lost_primary["node"])

    for token, (key, _) in events.items():  # writes go on, and each is read back at once
        version = await put(api, token, key, [[0, 2], [5, 6]])
        events[token] = (key, version)
        seen = await view(api, token, min_version=version)
        assert seen["version"] == version
        assert seen["heatmap"]["available"][:7] == [1, 1, 0, 0, 0, 1, 0]
    api.wiring.local.clear()  # not from this process's L1 either
    api.sql.reset()
    for token in lost:  # the lost primary's events come from PostgreSQL
        assert (await view(api, token))["version"] == events[token][1]
    assert len(api.sql.statements) >= len(lost), "each read of them is rebuilt from SQL"

    await scale_out("start", lost_primary["node"])
    del lost_primary["node"]
    cache = ViewCache(redis, 60_000)
    async with asyncio.timeout(60):  # back: misses refill it, every view at the DB's version
        for token, (_, version) in events.items():
            while True:
                seen = (await view(api, token))["version"]
                await api.wiring.views.write_behind.drain()  # a rebuilt view is stored after
                if seen == version and version_of(await cache.get(token) or b"{}") == version:
                    break
                await asyncio.sleep(0.1)
