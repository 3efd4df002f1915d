"""HTTP write → outbox → Kafka → availability worker → Redis → ViewRefreshed → notifier →
soketi → a real websocket client, with every part a real process or server."""

import asyncio
import statistics
import sys
import time
from collections.abc import Iterator

import orjson
import pytest
from overlap_shared.cache_keys import notifier_stats_key
from overlap_shared.topics import AVAILABILITY_GROUP, NOTIFIER_GROUP

from tests.conftest import Services
from tests.integration.conftest import Api
from tests.kafka_tail import group_stable
from tests.pusher_client import socket, subscribe_private
from tests.servers import free_port, process


@pytest.fixture(scope="module")
def workers(services: Services, migrated: str) -> Iterator[None]:
    env = {
        **services.env(),
    }
    a, n = free_port(), free_port()
    av, nt = f"http://127.0.0.1:{a}/healthz", f"http://127.0.0.1:{n}/healthz"
    with (
        process(
            [sys.executable, "-m", "overlap_availability"],
            {**env, "HEALTH_PORT": str(a)},
            av,
            "e2e-av",
        ),
        process(
            [sys.executable, "-m", "overlap_notifier"], {**env, "HEALTH_PORT": str(n)}, nt, "e2e-nt"
        ),
    ):
        yield


async def test_a_write_reaches_a_subscribed_client(
    api: Api, services: Services, workers: None, relay: None
) -> None:
    created = await api.create_event()
    token = created["token"]
    key = {"X-Participant-Key": (await api.join(token, "Live"))["participant_key"]}
    latencies = []
    bootstrap = services.kafka_bootstrap_servers
    for group in (AVAILABILITY_GROUP, NOTIFIER_GROUP):  # no rebalance in the measurement
        await group_stable(bootstrap, group, members=1)
    async with socket(services) as client:
        channel = await subscribe_private(client, api.client, created)
        for i in range(41):  # the first one also waits for the consumers to join their groups
            sent = time.time()
            r = await api.client.patch(
                f"/api/events/{token}/participants/me/availability",
                json={"set_available": [[i % 16, i % 16 + 1]]},
                headers=key,
            )
            version = r.json()["version"]

            def arrived(m: dict, v: int = version) -> bool:
                if m.get("channel") != channel or m.get("event") != "view.updated":
                    return False
                return int(orjson.loads(m["data"])["version"]) >= v

            at, message = await client.wait_for(arrived, limit_s=15)
            if i:
                latencies.append((at - sent) * 1000)
        last = orjson.loads(message["data"])
    assert last["version"] >= version
    assert last["heatmap"]["available"][:16] == [1] * 16  # the page can draw without a fetch
    q = statistics.quantiles(latencies, n=100)
    print(f"write→client ms over {len(latencies)} writes: p50={q[49]:.0f} p99={q[98]:.0f}")


async def test_a_burst_of_100_writes_costs_at_most_20_pusher_calls(
    api: Api, services: Services, workers: None, relay: None
) -> None:
    created = await api.create_event()
    token = created["token"]
    key = {"X-Participant-Key": (await api.join(token, "Burst"))["participant_key"]}
    redis = api.resources.redis
    async with socket(services) as client:
        channel = await subscribe_private(client, api.client, created)
        calls_before = int(await redis.hget(notifier_stats_key(), "calls") or 0)
        started = time.monotonic()

        async def write(i: int) -> int:
            await asyncio.sleep(i / 100)  # 100 writes spread over one second
            r = await api.client.put(
                f"/api/events/{token}/participants/me/availability",
                json={"available": [[i % 32, i % 32 + 1]], "if_needed": []},
                headers=key,
            )
            assert r.status_code == 200, r.text
            return int(r.json()["version"])

        final = max(await asyncio.gather(*(write(i) for i in range(100))))
        # The notifier calls a channel at most once a window (NOTIFIER_WINDOW_MS, 100 ms): 20
        # calls for a one-second burst, and 10 more for each second a busy machine adds to it.
        allowed = 20 + int(10 * max(0.0, time.monotonic() - started - 1))

        def last(m: dict) -> bool:
            return (
                m.get("channel") == channel
                and m.get("event") == "view.updated"
                and int(orjson.loads(m["data"])["version"]) >= final
            )

        await client.wait_for(last, limit_s=20)
        await asyncio.sleep(1)  # let any straggling call finish and be counted
        calls = int(await redis.hget(notifier_stats_key(), "calls") or 0) - calls_before
        received = client.received(channel, "view.updated")
    assert received[-1]["version"] == final
    assert calls <= allowed, (calls, allowed)
    print(f"100 writes in 1 s: {calls} Pusher calls, {len(received)} view.updated received")
