"""The availability worker and the cached read path, on the real services."""

import asyncio
import sys
import uuid
from collections.abc import Iterator

import pytest
from overlap_shared.cache_keys import view_key, view_lease_key
from overlap_shared.topics import AVAILABILITY_GROUP, dead_letter_topic
from overlap_shared.viewcache import ViewCache, is_tombstone, version_of
from prometheus_client import REGISTRY

from tests.conftest import Services
from tests.integration.conftest import Api
from tests.kafka_tail import Tail
from tests.servers import free_port, process


@pytest.fixture(scope="module")
def worker(services: Services, migrated: str) -> Iterator[None]:
    """One availability worker process (and the API's relay is run by the `relay` fixture)."""
    port = free_port()
    env = {
        **services.env(),
        "HEALTH_PORT": str(port),
    }
    args = [sys.executable, "-m", "overlap_availability"]
    with process(args, env, f"http://127.0.0.1:{port}/healthz", "availability"):
        yield


async def cached_version(api: Api, token: str) -> int | None:
    data = await ViewCache(api.resources.redis, 1_000).get(token)
    return version_of(data) if data else None


async def eventually_cached(api: Api, token: str, version: int, timeout_s: float = 30) -> None:
    async with asyncio.timeout(timeout_s):
        while (await cached_version(api, token) or 0) < version:
            await asyncio.sleep(0.02)


async def painted(api: Api, name: str, available: list[list[int]]) -> tuple[str, int]:
    """A new event's token and its version after ``name`` joined and marked ``available``."""
    token = (await api.create_event())["token"]
    me = await api.join(token, name)
    r = await api.client.put(
        f"/api/events/{token}/participants/me/availability",
        json={"available": available},
        headers={"X-Participant-Key": me["participant_key"]},
    )
    return token, int(r.json()["version"])


async def test_after_a_write_the_cached_view_reaches_the_database_version(
    api: Api, worker: None, relay: None
) -> None:
    token, version = await painted(api, "Cache", [[0, 4]])
    await eventually_cached(api, token, version)
    api.sql.reset()
    view = await api.client.get(f"/api/events/{token}")
    assert view.json()["version"] == version
    assert view.json()["heatmap"]["available"][:5] == [1, 1, 1, 1, 0]
    assert api.sql.statements == []  # a hit costs no SQL


async def test_a_read_with_the_written_version_never_sees_an_older_view(api: Api) -> None:
    created = await api.create_event()
    token = created["token"]
    await api.client.get(f"/api/events/{token}")  # cache version 1
    key = {"X-Participant-Key": (await api.join(token, "Reader"))["participant_key"]}
    for i in range(10):
        r = await api.client.patch(
            f"/api/events/{token}/participants/me/availability",
            json={"set_available": [[i, i + 1]]},
            headers=key,
        )
        version = r.json()["version"]
        stale_ok = await api.client.get(f"/api/events/{token}")
        fresh = await api.client.get(f"/api/events/{token}", params={"min_version": version})
        header = await api.client.get(
            f"/api/events/{token}", headers={"X-Min-Version": str(version)}
        )
        assert stale_ok.json()["version"] <= version
        assert fresh.json()["version"] >= version
        assert header.json()["version"] >= version
        assert fresh.json()["heatmap"]["available"][i] == 1


async def test_500_concurrent_readers_of_an_expired_hot_view_cost_one_recompute(api: Api) -> None:
    token = (await api.create_event())["token"]
    await api.client.get(f"/api/events/{token}")
    await api.resources.redis.delete(view_key(token))  # the view just expired
    before = REGISTRY.get_sample_value("view_recomputes_total") or 0.0
    answers = await asyncio.gather(*(api.client.get(f"/api/events/{token}") for _ in range(500)))
    recomputes = (REGISTRY.get_sample_value("view_recomputes_total") or 0.0) - before
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert recomputes <= 2, recomputes


async def test_reads_still_answer_when_redis_is_down(api: Api, services: Services) -> None:
    token = (await api.create_event())["token"]
    await asyncio.to_thread(services.infra.stop, "redis")
    try:
        for _ in range(3):
            r = await api.client.get(f"/api/events/{token}")
            assert r.status_code == 200 and r.json()["version"] == 1
    finally:
        await asyncio.to_thread(services.infra.start_all)
        async with asyncio.timeout(10):  # the reads' backoff (2 s) ends: later tests use Redis
            while api.wiring.views.gate.budget().spent:
                await asyncio.sleep(0.1)


async def test_a_poison_message_is_dead_lettered_and_the_next_one_processed(
    api: Api, services: Services, worker: None, relay: None
) -> None:
    settings = api.resources.settings
    dlt = Tail(
        services.kafka_bootstrap_servers,
        dead_letter_topic(settings.domain_topic, AVAILABILITY_GROUP),
    )
    await dlt.mark()
    poison = f"not json {uuid.uuid4()}".encode()
    await api.resources.broker.publish(poison, settings.domain_topic, key=b"poison")
    created = await api.create_event()
    await eventually_cached(api, created["token"], 1)
    got = await dlt.raw(lambda raws: poison in raws, timeout_s=30)
    assert poison in got


async def test_a_reader_needing_a_newer_view_is_not_sent_the_older_one(api: Api) -> None:
    cache, token = ViewCache(api.resources.redis, 10_000), f"at-least-{uuid.uuid4().hex}"
    stored = b'{"version":5,"event":"' + b"x" * 200 + b'"}'
    assert await cache.put(token, 5, stored)
    assert await cache.lookup(token, 6, 1_000) is True  # older than needed: the lease is taken
    assert await cache.lookup(token, 6, 1_000) is False  # and held
    assert await cache.lookup(token, 5, 1_000) == stored
    assert await cache.lookup(token, 0, 1_000) == stored
    assert await cache.put(token, 6, stored.replace(b"5", b"6", 1), release=True)
    assert await cache.lookup(token, 7, 1_000) is True  # the write released the lease
    assert await cache.bury(token, 7)
    buried = await cache.lookup(token, 9, 1_000)
    assert isinstance(buried, bytes) and is_tombstone(buried)  # a deletion always shows
    assert await cache.lookup(f"missing-{token}", 1, 1_000) is True


async def test_a_rebuilt_view_reaches_redis_after_the_answer_and_frees_the_lease(api: Api) -> None:
    token, version = await painted(api, "Later", [[1, 3]])
    before = REGISTRY.get_sample_value("view_recomputes_total") or 0.0
    fresh = await api.client.get(f"/api/events/{token}", params={"min_version": version})
    assert fresh.json()["version"] == version
    assert (REGISTRY.get_sample_value("view_recomputes_total") or 0.0) == before + 1
    await api.wiring.views.write_behind.drain()
    assert (await cached_version(api, token) or 0) >= version
    assert await api.resources.redis.get(view_lease_key(token)) is None
