"""The project's own clients against the real services: SQL, Redis, Kafka, Pusher."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import orjson
import pusher
import websockets
from faststream.kafka import KafkaMessage
from overlap_shared.db import create_engine
from overlap_shared.dead_letters import RAW_RECORDS, records
from overlap_shared.redis_client import create_redis
from overlap_shared.settings import ServiceSettings
from overlap_shared.topics import ensure_topics
from overlap_shared.worker import create_broker
from sqlalchemy import text

from tests.conftest import Services


async def test_sql_round_trip(services: Services) -> None:
    engine = create_engine(services.database_url, "overlap-tests")
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(text("select 40 + 2, current_setting('application_name')"))
            ).one()
    finally:
        await engine.dispose()
    assert tuple(row) == (42, "overlap-tests")


async def test_redis_round_trip(services: Services) -> None:
    redis = create_redis(services.redis_url)
    key = f"ov:test:{uuid.uuid4()}"
    try:
        await redis.set(key, b"\x00bytes", px=5_000)
        assert await redis.get(key) == b"\x00bytes"
        assert await redis.pttl(key) > 0
    finally:
        await redis.unlink(key)
        await redis.aclose()


def _recorder(into: list[tuple[int, bytes]]) -> Callable[..., Awaitable[None]]:
    async def on_message(msg: KafkaMessage) -> None:  # the workers' broker injects nothing
        (record,) = records(msg)
        into.append((record.partition, record.value or b""))

    return on_message


async def test_kafka_two_consumers_of_one_group_split_the_partitions(services: Services) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=services.kafka_bootstrap_servers)
    topic, group = f"smoke.{uuid.uuid4().hex}", f"smoke-{uuid.uuid4().hex}"
    await ensure_topics(settings.kafka_bootstrap_servers, {topic: 4})
    seen: dict[str, list[tuple[int, bytes]]] = {"a": [], "b": []}
    brokers, subscribers = [], []
    for name in seen:
        broker = create_broker(settings, f"smoke-{name}")

        subscriber = broker.subscriber(
            topic, group_id=group, auto_offset_reset="earliest", **RAW_RECORDS
        )
        subscriber(_recorder(seen[name]))
        subscribers.append(subscriber)
        brokers.append(broker)
    producer = create_broker(settings, "smoke-producer")
    try:
        for broker in brokers:
            await broker.start()
        await producer.connect()
        async with asyncio.timeout(30):  # both members hold partitions after the rebalance
            while not all(s.consumer and s.consumer.assignment() for s in subscribers):
                await asyncio.sleep(0.1)
        sent = {f"m{i}".encode() for i in range(40)}
        for body in sorted(sent):
            await producer.publish(body, topic, key=body)
        async with asyncio.timeout(30):
            while {b for got in seen.values() for _, b in got} != sent:
                await asyncio.sleep(0.05)
    finally:
        for broker in [*brokers, producer]:
            await broker.stop()
    partitions = {name: {p for p, _ in got} for name, got in seen.items()}
    assert partitions["a"] and partitions["b"], partitions
    assert not partitions["a"] & partitions["b"], partitions


async def test_pusher_trigger_batch_reaches_a_websocket_client(services: Services) -> None:
    cfg = services.pusher
    channel = f"smoke-{uuid.uuid4().hex}"
    url = f"ws://{cfg.host}:{cfg.port}/app/{cfg.key}?protocol=7&client=overlap-tests&version=1"
    client = pusher.Pusher(
        app_id=cfg.app_id, key=cfg.key, secret=cfg.secret, host=cfg.host, port=cfg.port, ssl=cfg.ssl
    )
    async with websockets.connect(url) as ws:
        hello = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert hello["event"] == "pusher:connection_established"
        await ws.send(orjson.dumps({"event": "pusher:subscribe", "data": {"channel": channel}}))
        ack = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["event"] == "pusher_internal:subscription_succeeded"
        batch = [
            {"channel": channel, "name": "view.updated", "data": {"version": v}} for v in (1, 2)
        ]
        await asyncio.to_thread(client.trigger_batch, batch)
        received = [orjson.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in batch]
    assert [(m["event"], orjson.loads(m["data"])["version"]) for m in received] == [
        ("view.updated", 1),
        ("view.updated", 2),
    ]
