"""A valid message that always fails to process (poison) is dead-lettered after
WORKER_MAX_ATTEMPTS and its partition moves on: the availability worker and the
invalidator as real processes on Kafka, Redis and PostgreSQL.

The poison is real state, not a fake: a Redis key of the wrong type where the worker writes
(a list at the event's view key, or at its cache floor), so every attempt fails with
``WRONGTYPE`` while Redis itself answers. The next message on the same partition, of
another event, must take effect, and ``worker_dead_lettered_total{reason="poison"}`` count
the one record.
"""

import sys
import uuid
from collections.abc import Callable

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from overlap_shared import events
from overlap_shared.cache_keys import floor_key, view_key
from overlap_shared.redis_client import create_redis
from overlap_shared.replay import replay
from overlap_shared.topics import dead_letter_topic, ensure_topics
from overlap_shared.viewcache import ViewCache, version_of

from tests.conftest import Services
from tests.integration.test_dead_letters import eventually, read_all
from tests.servers import free_port, process

MAX_ATTEMPTS = 3
WORKERS = {  # module -> (group, the key a list makes poison)
    "overlap_availability": ("availability", view_key),
    "overlap_invalidator": ("cache-invalidator", floor_key),
}


def updated(token: str, version: int) -> events.EventUpdated:
    data = events.EventUpdatedData(fields=("title",), grid_changed=False)
    return events.EventUpdated(event_id=uuid.uuid4(), token=token, version=version, data=data)


async def took_effect(services: Services, module: str, msg: events.EventUpdated) -> bool:
    redis = create_redis(services.redis_url)
    try:
        if module == "overlap_availability":  # no such event in PostgreSQL: a tombstone
            data = await ViewCache(redis, 1_000).get(msg.token)
            return data is not None and version_of(data) == msg.version
        return int(await redis.get(floor_key(msg.token)) or 0) == msg.version
    finally:
        await redis.aclose()


async def metric(url: str, group: str) -> float:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(url)).text
    wanted = f'worker_dead_lettered_total{{group="{group}",reason="poison"}} '
    lines = [line for line in text.splitlines() if line.startswith(wanted)]
    return float(lines[0].split()[-1]) if lines else 0.0


@pytest.mark.parametrize("module", list(WORKERS))
async def test_poison_is_dead_lettered_after_n_attempts_and_the_partition_moves_on(
    services: Services, migrated: str, module: str
) -> None:
    run = uuid.uuid4().hex[:10]
    topic, prefix = f"test.poison.{run}", f"poison-{run}."
    base, poisoned_key = WORKERS[module]
    group = prefix + base
    dlt = dead_letter_topic(topic, group)
    await ensure_topics(services.kafka_bootstrap_servers, {topic: 1, dlt: 1})
    poison, after = updated(f"p{run}", 4), updated(f"n{run}", 2)
    redis = create_redis(services.redis_url)
    await redis.rpush(poisoned_key(poison.token), "not a string")  # WRONGTYPE for GET
    port = free_port()
    env = {
        **services.env(),
        "DOMAIN_TOPIC": topic,
        "KAFKA_GROUP_PREFIX": prefix,
        "HEALTH_PORT": str(port),
        "WORKER_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "WORKER_RETRY_FIRST_MS": "50",
    }
    health = f"http://127.0.0.1:{port}/healthz"
    producer = AIOKafkaProducer(bootstrap_servers=services.kafka_bootstrap_servers)
    try:
        with process([sys.executable, "-m", module], env, health, f"poison-{module}-{port}"):
            await producer.start()
            for msg in (poison, after):  # one partition: the second waits for the first
                await producer.send_and_wait(topic, events.encode(msg), events.kafka_key(msg))

            async def missing() -> list[str]:
                return [] if await took_effect(services, module, after) else [after.token]

            await eventually(missing, f"{module}: the message after the poison")
            found = await read_all(services.kafka_bootstrap_servers, dlt, has_key(poison))
            metrics_url = f"http://127.0.0.1:{port}/metrics"
            assert await metric(metrics_url, group) == 1.0
    finally:
        await producer.stop()
        await redis.delete(poisoned_key(poison.token))
        await redis.aclose()
    (record,) = found
    headers = {k: v.decode() for k, v in record.headers}
    assert record.value == events.encode(poison)
    assert headers["attempts"] == str(MAX_ATTEMPTS)
    assert headers["error"].startswith("ResponseError") and "WRONGTYPE" in headers["error"]
    assert (headers["source-topic"], headers["source-offset"]) == (topic, "0")


async def test_replay_publishes_a_dead_letter_topic_back_to_its_source(
    services: Services,
) -> None:
    run = uuid.uuid4().hex[:10]
    source, dlt = f"test.replay.{run}", f"test.replay.{run}.dlt.g"
    await ensure_topics(services.kafka_bootstrap_servers, {source: 1, dlt: 1})
    msg = updated(f"r{run}", 3)
    producer = AIOKafkaProducer(bootstrap_servers=services.kafka_bootstrap_servers)
    await producer.start()
    try:
        parked = [("source-topic", source.encode()), ("error", b"x"), ("attempts", b"5")]
        await producer.send_and_wait(dlt, events.encode(msg), b"k1", headers=parked)
        cut = [("source-topic", source.encode()), ("truncated-from", b"key=1 value=99999")]
        await producer.send_and_wait(dlt, b"cut", b"k2", headers=cut)
    finally:
        await producer.stop()
    bootstrap = services.kafka_bootstrap_servers
    dry = await replay(bootstrap, dlt, 0, 100, None, dry_run=True)
    assert (dry.replayed, dry.next_offsets) == (1, {0: 2})
    outcome = await replay(bootstrap, dlt, 0, 100, None, dry_run=False)
    assert (outcome.replayed, len(outcome.skipped), outcome.next_offsets) == (1, 1, {0: 2})
    (back,) = await read_all(bootstrap, source, lambda records: len(records) >= 1)
    assert (back.key, back.value) == (b"k1", events.encode(msg))
    again = await replay(bootstrap, dlt, 2, 100, None, dry_run=False)
    assert again.replayed == 0  # from the printed next offset: nothing new


def has_key(msg: events.Message) -> Callable[[list[object]], bool]:
    key = events.kafka_key(msg)
    return lambda records: any(getattr(r, "key", None) == key for r in records)
