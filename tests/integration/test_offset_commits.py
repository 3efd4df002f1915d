"""A worker commits its processed offsets together, not after every batch, and delivery stays
at least once: the invalidator as a real process on Kafka and Redis, on a topic and group of
the test's own, with a commit interval longer than the test.

Killed before its commit, the worker's successor replays every record it had processed;
stopped gracefully, a worker commits everything it processed on its way out.
"""

import sys
import uuid
from collections.abc import Awaitable, Callable

import httpx
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from overlap_shared import events
from overlap_shared.cache_keys import floor_key
from overlap_shared.redis_client import create_redis
from overlap_shared.topics import ensure_topics

from launcher.process import LOG_DIR, Process, running
from tests.conftest import Services
from tests.integration.test_dead_letters import eventually
from tests.servers import free_port

GROUP = "cache-invalidator"


def updated(token: str, version: int) -> events.EventUpdated:
    data = events.EventUpdatedData(fields=("title",), grid_changed=False)
    return events.EventUpdated(event_id=uuid.uuid4(), token=token, version=version, data=data)


def invalidator(env: dict[str, str], name: str) -> Process:
    port = free_port()
    env = {**env, "HEALTH_PORT": str(port)}
    argv = [sys.executable, "-m", "overlap_invalidator"]
    return Process(
        name, argv, f"http://127.0.0.1:{port}/healthz", LOG_DIR / f"test-{name}.log", env
    )


async def committed(bootstrap: str, group: str, topic: str) -> int | None:
    """The group's committed offset of the topic's one partition (None: never committed)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = offsets.get(TopicPartition(topic, 0))
    return None if found is None or found.offset < 0 else found.offset


async def records_read(process: Process, group: str) -> float:
    """``worker_messages_total{outcome="read"}`` of ``process`` for ``group``."""
    assert process.health_url is not None
    metrics = process.health_url.replace("/healthz", "/metrics")
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(metrics)).text
    wanted = f'worker_messages_total{{group="{group}",outcome="read"}} '
    lines = [line for line in text.splitlines() if line.startswith(wanted)]
    return float(lines[0].split()[-1]) if lines else 0.0


async def test_offsets_are_committed_together_and_a_killed_workers_records_are_replayed(
    services: Services,
) -> None:
    run = uuid.uuid4().hex[:10]
    topic, prefix = f"test.commits.{run}", f"commits-{run}."
    group, bootstrap = prefix + GROUP, services.kafka_bootstrap_servers
    await ensure_topics(bootstrap, {topic: 1})
    env = {
        **services.env(),
        "DOMAIN_TOPIC": topic,
        "KAFKA_GROUP_PREFIX": prefix,
        "CONSUMER_COMMIT_INTERVAL_MS": "10000",  # longer than the test needs
        "CONSUMER_FETCH_WAIT_MS": "20",
    }
    sent = [updated(f"c{run}{i}", 3 + i) for i in range(6)]
    redis = create_redis(services.redis_url)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()

    async def send(msgs: list[events.EventUpdated]) -> None:
        for msg in msgs:
            await producer.send_and_wait(topic, events.encode(msg), events.kafka_key(msg))

    def took_effect(msgs: list[events.EventUpdated]) -> Callable[[], Awaitable[list[str]]]:
        async def missing() -> list[str]:
            floors = [int(await redis.get(floor_key(m.token)) or 0) for m in msgs]
            return [m.token for m, f in zip(msgs, floors, strict=True) if f != m.version]

        return missing

    try:
        with running(invalidator(env, f"commits-a-{run}")) as first:
            await send(sent[:5])
            await eventually(took_effect(sent[:5]), "the first worker's effects")
            assert await records_read(first, group) == 5
            assert await committed(bootstrap, group, topic) is None  # not after each batch
            first.kill()  # before its commit is due
        assert await committed(bootstrap, group, topic) is None
        for msg in sent[:5]:
            await redis.delete(floor_key(msg.token))

        with running(invalidator(env, f"commits-b-{run}")) as second:
            await eventually(took_effect(sent[:5]), "the replayed effects")  # at least once
            assert await records_read(second, group) == 5
            await send(sent[5:])
            await eventually(took_effect(sent[5:]), "the last record's effect")
            assert await committed(bootstrap, group, topic) is None
        # stopped gracefully: it committed all it processed on its way out
        assert await committed(bootstrap, group, topic) == len(sent)
    finally:
        await producer.stop()
        for msg in sent:
            await redis.delete(floor_key(msg.token))
        await redis.aclose()
