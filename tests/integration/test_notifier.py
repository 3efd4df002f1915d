"""The notifier as a real process on Kafka, Redis and soketi, watched by a real websocket
client subscribed through the API's realtime auth route (DESIGN §3 "Realtime", §5 "Notify").

Each run uses its own views/domain topics and consumer group, so it never competes with
other notifiers on the shared broker.
"""

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from faststream.kafka import KafkaBroker
from overlap_shared import events
from overlap_shared.redis_client import RedisClient, create_redis
from overlap_shared.settings import ServiceSettings
from overlap_shared.topics import dead_letter_topic, ensure_topics
from overlap_shared.viewcache import ViewCache
from overlap_shared.worker import create_broker
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Services
from tests.integration.conftest import Api
from tests.pusher_client import authorize, socket, subscribe_private
from tests.servers import free_port, process

RUN = uuid.uuid4().hex[:12]
VIEWS, DOMAIN = f"test.views.{RUN}", f"test.domain.{RUN}"
GROUP = f"notifier-test-{RUN}"
MAX_PENDING = 20


# ------------------------------------------------------------------- fixtures


@dataclass
class Notifier:
    url: str

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=5) as client:
            return await client.get(f"{self.url}{path}")

    async def metrics(self) -> dict[str, float]:
        """Every sample of the notifier's own metrics, keyed by name{labels}."""
        text = (await self.get("/metrics")).text
        out: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                out[f"{s.name}{{{labels}}}"] = s.value
        return out

    async def ok_calls(self) -> float:
        return (await self.metrics()).get("notifier_pusher_calls_total{outcome=ok}", 0.0)


@pytest.fixture(scope="module")
async def topics(services: Services) -> None:
    plan = {VIEWS: 2, DOMAIN: 2}
    plan |= {dead_letter_topic(t, GROUP): 1 for t in (VIEWS, DOMAIN)}
    await ensure_topics(services.kafka_bootstrap_servers, plan)


@pytest.fixture(scope="module")
def notifier(services: Services, topics: None) -> Iterator[Notifier]:
    port = free_port()
    env = {
        "REDIS_URL": services.redis_url,
        "KAFKA_BOOTSTRAP_SERVERS": services.kafka_bootstrap_servers,
        "VIEWS_TOPIC": VIEWS,
        "DOMAIN_TOPIC": DOMAIN,
        "NOTIFIER_GROUP": GROUP,
        "HEALTH_PORT": str(port),
        "NOTIFIER_MAX_PENDING_CHANNELS": str(MAX_PENDING),
        "NOTIFIER_RETRY_MAX_MS": "1000",
        "NOTIFIER_BREAKER_COOLDOWN_MS": "1000",
    }
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "overlap_notifier"]
    with process(args, env, f"{url}/healthz", f"notifier-{port}"):
        yield Notifier(url)


@pytest.fixture(scope="module")
async def producer(services: Services) -> AsyncIterator[KafkaBroker]:
    settings = ServiceSettings(kafka_bootstrap_servers=services.kafka_bootstrap_servers)
    broker = create_broker(settings, "test-notifier-producer")
    await broker.connect()
    yield broker
    await broker.stop()


@pytest.fixture(scope="module")
async def redis(services: Services) -> AsyncIterator[RedisClient]:
    client = create_redis(services.redis_url)
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
def realtime_client(api: Api) -> httpx.AsyncClient:
    """The API app (with its realtime routes) on the real services."""
    return api.client


# ---------------------------------------------------------------- kafka side


def now() -> datetime:
    return datetime.now(UTC)


def view_bytes(version: int, slots: int = 16) -> bytes:
    heatmap = {"available": [version % 7] * slots, "if_needed": [1] * slots}
    return orjson.dumps({"version": version, "event": {}, "heatmap": heatmap, "best": []})


async def refresh(
    producer: KafkaBroker, cache: ViewCache | None, event: dict[str, Any], version: int
) -> None:
    """What the availability worker does: store the view, then announce it."""
    body = view_bytes(version)
    if cache is not None:
        await cache.put(event["token"], version, body)
    msg = events.ViewRefreshed(
        occurred_at=now(),
        event_id=uuid.UUID(event["event"]["id"]),
        token=event["token"],
        version=version,
        data=events.ViewRefreshedData(changes=("AvailabilityChanged",), size_bytes=len(body)),
    )
    await producer.publish(events.encode(msg), VIEWS, key=events.kafka_key(msg))


async def domain(producer: KafkaBroker, msg: events.Message) -> None:
    await producer.publish(events.encode(msg), DOMAIN, key=events.kafka_key(msg))


def pctl(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------------- tests


async def test_config_names_the_server_but_never_the_secret(
    realtime_client: httpx.AsyncClient, services: Services
) -> None:
    r = await realtime_client.get("/api/realtime/config")
    assert r.status_code == 200
    cfg = services.pusher
    assert r.json() == {
        "key": cfg.key,
        "host": cfg.host,
        "port": cfg.port,
        "tls": cfg.ssl,
        "cluster": cfg.cluster,
    }
    assert cfg.secret not in r.text


async def test_auth_signatures_are_accepted_and_other_events_refused(
    api: Api, realtime_client: httpx.AsyncClient, services: Services
) -> None:
    mine, other = await api.create_event(), await api.create_event()
    member = await api.join(mine["token"], "Ada")
    outsider = await api.join(other["token"], "Eve")
    private = f"private-event-{mine['event']['id']}"
    presence = f"presence-event-{mine['event']['id']}"
    async with socket(services) as s:
        await subscribe_private(s, realtime_client, mine)
        # the token of another event, or none
        r = await authorize(
            realtime_client, s.socket_id, private, **{"X-Event-Token": other["token"]}
        )
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        r = await authorize(realtime_client, s.socket_id, private)
        assert r.status_code == 401
        # presence: a participant of this event is a member named by its id ...
        key = {"X-Participant-Key": member["participant_key"]}
        r = await authorize(realtime_client, s.socket_id, presence, **key)
        assert r.status_code == 200, r.text
        ack = await s.subscribe(presence, r.json())
        assert ack["event"] == "pusher_internal:subscription_succeeded", ack
        members = orjson.loads(ack["data"])["presence"]
        assert members["hash"] == {member["participant"]["id"]: {"name": "Ada"}}
        # ... a participant of another event is not
        key = {"X-Participant-Key": outsider["participant_key"]}
        r = await authorize(realtime_client, s.socket_id, presence, **key)
        assert r.status_code == 403
        # a made-up signature is refused by soketi itself
        forged = f"presence-event-{other['event']['id']}"
        bad = await s.subscribe(
            forged, {"auth": f"{services.pusher.key}:{'0' * 64}", "channel_data": "{}"}
        )
        assert bad["event"] != "pusher_internal:subscription_succeeded"
    token = {"X-Event-Token": mine["token"]}
    for socket_id, channel, status in [
        ("1.2.3", private, 422),
        ("abc", private, 422),
        ("1.2", "private-event-../../x", 422),
        ("1.2", "private-event-not-a-uuid", 403),
        ("1.2", "private-admin", 403),
        ("1.2", f"private-encrypted-event-{mine['event']['id']}", 403),
    ]:
        r = await authorize(realtime_client, socket_id, channel, **token)
        assert r.status_code == status, (socket_id, channel, r.text)
    r = await realtime_client.post(
        "/api/realtime/auth", json={"socket_id": "1.2", "channel_name": private}, headers=token
    )
    assert r.status_code == 415
    r = await realtime_client.post(
        "/api/realtime/auth",
        content=f"socket_id=1.2&channel_name={private}&extra=1",
        headers={**token, "content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422


async def test_view_and_event_changes_reach_a_subscribed_client(
    api: Api,
    realtime_client: httpx.AsyncClient,
    services: Services,
    notifier: Notifier,
    producer: KafkaBroker,
    redis: RedisClient,
) -> None:
    event = await api.create_event()
    event_id, token = uuid.UUID(event["event"]["id"]), event["token"]
    cache = ViewCache(redis, 60_000)
    async with socket(services) as s:
        channel = await subscribe_private(s, realtime_client, event)
        await refresh(producer, cache, event, 1_000)
        _, msg = await s.wait_for(lambda m: m.get("event") == "view.updated", 20)
        assert msg["channel"] == channel
        assert orjson.loads(msg["data"]) == {
            "version": 1_000,
            "heatmap": orjson.loads(view_bytes(1_000))["heatmap"],
        }
        # a view not stored (yet): the version alone, clients fetch ?min_version=
        await refresh(producer, None, event, 1_002)
        _, msg = await s.wait_for(
            lambda m: m.get("event") == "view.updated" and "1002" in m["data"]
        )
        assert orjson.loads(msg["data"]) == {"version": 1_002}
        envelope = {"occurred_at": now(), "event_id": event_id, "token": token}
        await domain(
            producer,
            events.ParticipantJoined(
                **envelope,
                version=1_003,
                data=events.ParticipantJoinedData(participant_id=uuid.uuid4(), name="x"),
            ),
        )
        await domain(
            producer,
            events.EventUpdated(
                **envelope,
                version=1_004,
                data=events.EventUpdatedData(fields=("title",), grid_changed=False),
            ),
        )
        _, msg = await s.wait_for(lambda m: m.get("event") == "event.updated")
        assert orjson.loads(msg["data"]) == {"version": 1_004}
        await domain(producer, events.EventDeleted(**envelope, version=1_005))
        _, msg = await s.wait_for(lambda m: m.get("event") == "event.deleted")
        assert orjson.loads(msg["data"]) == {}
    assert s.received(channel, "participant.joined") == []


async def test_undecodable_messages_are_dead_lettered_and_processing_continues(
    api: Api,
    realtime_client: httpx.AsyncClient,
    services: Services,
    notifier: Notifier,
    producer: KafkaBroker,
) -> None:
    from aiokafka import AIOKafkaConsumer

    event = await api.create_event()
    dlt = dead_letter_topic(VIEWS, GROUP)  # the dead-letter topic follows the group
    async with socket(services) as s:
        await subscribe_private(s, realtime_client, event)
        await producer.publish(b"not json", VIEWS, key=event["event"]["id"].encode())
        await refresh(producer, None, event, 7)
        await s.wait_for(lambda m: m.get("event") == "view.updated")
    consumer = AIOKafkaConsumer(
        dlt, bootstrap_servers=services.kafka_bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 20)
    finally:
        await consumer.stop()
    assert record.value == b"not json"
    assert any(k == "error" and b"invalid message" in v for k, v in record.headers)


async def test_a_burst_of_100_updates_costs_few_pusher_calls(
    api: Api,
    realtime_client: httpx.AsyncClient,
    services: Services,
    notifier: Notifier,
    producer: KafkaBroker,
    redis: RedisClient,
) -> None:
    event = await api.create_event()
    cache = ViewCache(redis, 60_000)
    async with socket(services) as s:
        channel = await subscribe_private(s, realtime_client, event)
        await refresh(producer, cache, event, 1)  # warm: the first message opens the path
        await s.wait_for(lambda m: m.get("event") == "view.updated")
        before = await notifier.ok_calls()
        start = time.monotonic()
        tasks = []
        for version in range(2, 102):  # like writes through the worker: 100 refreshes in 1 s
            tasks.append(asyncio.create_task(refresh(producer, cache, event, version)))
            await asyncio.sleep(max(0, start + (version - 1) / 100 - time.monotonic()))
        await asyncio.gather(*tasks)
        published_s = time.monotonic() - start
        await s.wait_for(
            lambda m: m.get("event") == "view.updated" and '"version":101' in m["data"]
        )
        await asyncio.sleep(0.5)
        calls = await notifier.ok_calls() - before
        seen = [d["version"] for d in s.received(channel, "view.updated")]
    print(
        f"\nburst: 100 updates published in {published_s:.2f} s -> {calls:.0f} Pusher calls "
        f"({calls / 100:.2f} per update), client saw {len(seen) - 1} view.updated events"
    )
    assert calls <= 20
    assert seen[-1] == 101 and seen == sorted(seen)


async def test_write_to_client_latency(
    api: Api,
    realtime_client: httpx.AsyncClient,
    services: Services,
    notifier: Notifier,
    producer: KafkaBroker,
    redis: RedisClient,
) -> None:
    """200 updates over 20 events at 50/s (each channel every 400 ms, so none coalesce):
    from the message's occurred_at to its arrival on the websocket."""
    cache = ViewCache(redis, 60_000)
    evs = [await api.create_event() for _ in range(20)]
    async with socket(services) as s:
        for e in evs:
            await subscribe_private(s, realtime_client, e)
        sent: dict[tuple[str, int], float] = {}
        start = time.monotonic()
        for i in range(200):
            e, version = evs[i % 20], 1 + i // 20
            body = view_bytes(version)
            await cache.put(e["token"], version, body)
            sent[(f"private-event-{e['event']['id']}", version)] = time.time()
            await refresh(producer, None, e, version)
            await asyncio.sleep(max(0, start + (i + 1) / 50 - time.monotonic()))
        last = f"private-event-{evs[-1]['event']['id']}"
        await s.wait_for(
            lambda m: m.get("channel") == last and '"version":10,' in m.get("data", ""), 20
        )
        got = {
            (m["channel"], orjson.loads(m["data"])["version"]): at
            for at, m in s.events
            if m.get("event") == "view.updated"
        }
    latencies = [(got[k] - t) * 1000 for k, t in sent.items() if k in got]
    print(
        f"\nwrite-to-client latency over {len(latencies)} of {len(sent)} updates: "
        f"p50 {statistics.median(latencies):.0f} ms, p99 {pctl(latencies, 0.99):.0f} ms, "
        f"max {max(latencies):.0f} ms"
    )
    assert len(latencies) >= 190


async def test_soketi_outage_the_notifier_stays_up_and_delivers_after_recovery(
    api: Api,
    realtime_client: httpx.AsyncClient,
    services: Services,
    notifier: Notifier,
    producer: KafkaBroker,
    redis: RedisClient,
) -> None:
    cache = ViewCache(redis, 60_000)
    event = await api.create_event()
    others = [await api.create_event() for _ in range(3 * MAX_PENDING)]
    async with socket(services) as s:
        await subscribe_private(s, realtime_client, event)
        await refresh(producer, cache, event, 1)
        await s.wait_for(lambda m: m.get("event") == "view.updated")
    before = await notifier.metrics()
    await asyncio.to_thread(services.infra.stop, "soketi")
    pending: list[float] = []
    try:
        outage = time.monotonic()
        version = 1
        while time.monotonic() - outage < 5:
            version += 1
            await refresh(producer, cache, event, version)
            for other in others[(version % 3) * MAX_PENDING :][:MAX_PENDING]:
                await refresh(producer, None, other, version)
            assert (await notifier.get("/healthz")).status_code < 300
            pending.append((await notifier.metrics())["notifier_pending_channels{}"])
            await asyncio.sleep(0.25)
    finally:
        await asyncio.to_thread(services.infra.start_all)
    during = await notifier.metrics()
    ok_before = before.get("notifier_pusher_calls_total{outcome=ok}", 0)
    # the update held back during the outage goes out once soketi is back (a wait, not a
    # bound: soketi restarting on a loaded machine took over 30 s)
    async with asyncio.timeout(120):
        while await notifier.ok_calls() <= ok_before:
            await asyncio.sleep(0.2)
    async with socket(services) as s:
        await subscribe_private(s, realtime_client, event)
        await refresh(producer, cache, event, version + 1)
        _, msg = await s.wait_for(lambda m: m.get("event") == "view.updated", 30)
    after = await notifier.metrics()
    failures = sum(v for k, v in during.items() if k.startswith("notifier_pusher_failures_total"))
    failures -= sum(v for k, v in before.items() if k.startswith("notifier_pusher_failures_total"))
    dropped = during.get("notifier_dropped_total{reason=capped}", 0) - before.get(
        "notifier_dropped_total{reason=capped}", 0
    )
    print(
        f"\noutage: {failures:.0f} failed calls, pending channels max {max(pending):.0f} "
        f"(cap {MAX_PENDING}), {dropped:.0f} capped drops, circuit state at the end of the "
        f"outage {during['notifier_circuit_state{}']:.0f}; after recovery "
        f"{after['notifier_pusher_calls_total{outcome=ok}'] - ok_before:.0f} calls succeeded"
    )
    assert orjson.loads(msg["data"])["version"] >= version + 1
    assert failures > 0
    assert max(pending) <= MAX_PENDING


async def test_a_call_soketi_refuses_with_200_is_a_failure_not_a_delivery(
    services: Services,
) -> None:
    """soketi refuses a wrong secret with HTTP 200 and an error body: counting that as
    delivered would silently drop every update."""
    from overlap_notifier.pusher_http import PusherError, PusherSender

    event = {"channel": "private-event-x", "name": "view.updated", "data": "{}"}
    good = PusherSender(services.pusher, timeout_s=3, max_connections=1)
    wrong = services.pusher.model_copy(update={"secret": "not-the-secret-of-this-app"})
    bad = PusherSender(wrong, timeout_s=3, max_connections=1)
    try:
        await good.trigger_batch([event])  # taken
        with pytest.raises(PusherError) as refused:
            await bad.trigger_batch([event])
        assert not refused.value.retryable
        assert "HTTP 401" in str(refused.value)
    finally:
        await good.close()
        await bad.close()
