"""Poison on every topic lands in the consuming group's dead-letter topic, and the next
message on the same partition is processed: the three workers as real processes on
Kafka, Redis, PostgreSQL and soketi.

One table of bad records (:func:`bad_records`) is produced to a fresh domain topic and a
fresh views topic, each bad record followed on its partition by a valid message of its
own event. Per (group, topic) pair the test then checks that every bad record is in
``dead_letter_topic(topic, group)`` — same key, same bytes (an oversize value cut to
``MAX_MESSAGE_BYTES``), an ``error`` header saying why and the source coordinates —,
that nothing else is there, that every valid message had the group's effect, and that
the worker still answers its health probe.
"""

import asyncio
import contextlib
import hmac
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from overlap_notifier.payloads import private_channel
from overlap_shared import events
from overlap_shared.cache_keys import floor_key, meta_key
from overlap_shared.redis_client import RedisClient, create_redis
from overlap_shared.tagcache import TagCache
from overlap_shared.topics import (
    AVAILABILITY_GROUP,
    INVALIDATOR_GROUP,
    NOTIFIER_GROUP,
    dead_letter_topic,
    ensure_topics,
)
from overlap_shared.viewcache import ViewCache, is_tombstone, version_of

from tests.conftest import Services
from tests.pusher_client import Socket, socket
from tests.servers import free_port, process

RUN = uuid.uuid4().hex[:10]
DOMAIN, VIEWS = f"test.dlt.domain.{RUN}", f"test.dlt.views.{RUN}"
REPLIES = f"test.dlt.replies.{RUN}"  # named by a `reply_to` header: must stay empty
PARTITIONS = 2
FOLLOW_UP_VERSION = {DOMAIN: 2, VIEWS: 3}


# ------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Bad:
    name: str
    value: bytes | None
    error: str  # expected in the `error` header
    headers: tuple[tuple[str, bytes | None], ...] = ()

    @property
    def dead_lettered_value(self) -> bytes | None:
        if self.value is None:
            return None
        return self.value[: events.MAX_MESSAGE_BYTES]


def good_envelope(topic: str) -> dict[str, Any]:
    """A valid message of ``topic``, as a JSON object (the cases below break it)."""
    event_id = uuid.uuid4()
    msg: events.Message
    if topic == DOMAIN:
        msg = events.EventUpdated(
            event_id=event_id,
            token=f"t{event_id.hex}",
            version=1,
            data=events.EventUpdatedData(fields=("title",), grid_changed=False),
        )
    else:
        msg = events.ViewRefreshed(
            event_id=event_id,
            token=f"t{event_id.hex}",
            version=1,
            data=events.ViewRefreshedData(changes=("EventUpdated",), size_bytes=0),
        )
    return orjson.loads(events.encode(msg))


def bad_records(topic: str) -> list[Bad]:
    good = good_envelope(topic)
    other = good_envelope(VIEWS if topic == DOMAIN else DOMAIN)
    dumps = orjson.dumps
    oversize = b"[" + b" " * (events.MAX_MESSAGE_BYTES + 10) + b"]"
    return [
        # First, so that it comes first in a batch (FastStream reads the first headers):
        Bad("reply_to header", b"junk 5", "Invalid JSON", (("reply_to", REPLIES.encode()),)),
        Bad("not UTF-8", b"\xff\xfe\xfd not utf-8", "MalformedMessage: invalid message: Invalid"),
        Bad("not JSON", b"{oops", "Invalid JSON: key must be a string"),
        Bad("empty", b"", "Invalid JSON: EOF while parsing"),
        Bad("JSON array", b"[]", "Input should be an object"),
        Bad("JSON number", b"1", "Input should be an object"),
        Bad("JSON string", b'"x"', "Input should be an object"),
        Bad("JSON null", b"null", "Input should be an object"),
        Bad("no id", dumps({k: v for k, v in good.items() if k != "id"}), "field(s): id"),
        Bad("no token", dumps({k: v for k, v in good.items() if k != "token"}), "token: Field"),
        Bad("version as text", dumps({**good, "version": "2"}), "version: Input should be a val"),
        Bad("unknown type", dumps({**good, "type": "EventExploded"}), "UnknownMessage: unknown"),
        Bad("schema_version 2", dumps({**good, "schema_version": 2}), "unsupported schema_versi"),
        Bad("other topic's type", dumps(other), f"unknown message type: {other['type']!r}"),
        Bad("duplicate key", dumps(good)[:-1] + b',"version":1}', "duplicate key: 'version'"),
        Bad("oversize", oversize, f"oversize: {len(oversize)} bytes"),
        Bad("tombstone", None, "MalformedMessage: record has no value (a tombstone)"),
        Bad("non-UTF-8 header", b"junk 1", "Invalid JSON", (("trace", b"\xff\xfe"),)),
        Bad("null header", b"junk 2", "Invalid JSON", (("trace", None),)),
        Bad(
            "JSON content-type",
            b"{oops 3",
            "Invalid JSON",
            (("content-type", b"application/json"),),
        ),
        Bad("text, not UTF-8", b"\xff 4", "Invalid JSON", (("content-type", b"text/plain"),)),
    ]


def follow_up(topic: str) -> events.Message:
    """The valid message after a bad one: its own event, so its effect is its own."""
    event_id = uuid.uuid4()
    envelope: dict[str, Any] = {
        "event_id": event_id,
        "token": f"t{event_id.hex}",
        "version": FOLLOW_UP_VERSION[topic],
    }
    if topic == VIEWS:
        data = events.ViewRefreshedData(changes=("AvailabilityChanged",), size_bytes=0)
        return events.ViewRefreshed(**envelope, data=data)
    return events.EventUpdated(
        **envelope, data=events.EventUpdatedData(fields=("title",), grid_changed=False)
    )


# --------------------------------------------------------------- the run

PAIRS = [
    (AVAILABILITY_GROUP, DOMAIN),
    (INVALIDATOR_GROUP, DOMAIN),
    (NOTIFIER_GROUP, DOMAIN),
    (NOTIFIER_GROUP, VIEWS),
]
WORKERS = {  # group -> (module, extra environment)
    AVAILABILITY_GROUP: ("overlap_availability", {}),
    INVALIDATOR_GROUP: ("overlap_invalidator", {}),
    NOTIFIER_GROUP: ("overlap_notifier", {"NOTIFIER_GROUP": "notifier-renamed"}),
}
# Every worker's group takes this stack prefix; the dead-letter topics follow the names.
PREFIX = f"dlt-{RUN}."
GROUP_NAMES = {
    AVAILABILITY_GROUP: PREFIX + AVAILABILITY_GROUP,
    INVALIDATOR_GROUP: PREFIX + INVALIDATOR_GROUP,
    NOTIFIER_GROUP: PREFIX + "notifier-renamed",
}


@dataclass
class Sent:
    bad: Bad
    key: bytes
    partition: int
    next: events.Message  # the valid message right after it on its partition
    offset: int = -1  # known once produced


@dataclass
class Run:
    redis: RedisClient
    socket: Socket
    health: dict[str, str]  # group -> health URL
    sent: dict[str, list[Sent]]  # topic -> bad records, each with the valid one after it
    # Valid domain messages of a known type the notifier has no use for (so it ignores them).
    irrelevant: list[events.Message]


def plan_records() -> tuple[dict[str, list[Sent]], list[events.Message]]:
    sent = {
        topic: [
            Sent(bad, f"{RUN}-{i}".encode(), i % PARTITIONS, next=follow_up(topic))
            for i, bad in enumerate(bad_records(topic))
        ]
        for topic in (DOMAIN, VIEWS)
    }
    irrelevant: list[events.Message] = []
    for _ in range(PARTITIONS):
        event_id = uuid.uuid4()
        irrelevant.append(
            events.ParticipantJoined(
                event_id=event_id,
                token=f"t{event_id.hex}",
                version=FOLLOW_UP_VERSION[DOMAIN],
                data=events.ParticipantJoinedData(participant_id=uuid.uuid4(), name="Ada"),
            )
        )
    return sent, irrelevant


async def produce(producer: AIOKafkaProducer, run: Run) -> None:
    """Per topic: each bad record, then its valid message, on one partition."""
    for topic, records in run.sent.items():
        for item in records:
            meta = await producer.send_and_wait(
                topic,
                item.bad.value,
                key=item.key,
                partition=item.partition,
                headers=list(item.bad.headers),
            )
            item.offset = meta.offset
            await producer.send_and_wait(
                topic, events.encode(item.next), events.kafka_key(item.next), item.partition
            )
    for partition, msg in enumerate(run.irrelevant):
        await producer.send_and_wait(DOMAIN, events.encode(msg), events.kafka_key(msg), partition)


def channel_auth(services: Services, socket_id: str, channel: str) -> dict[str, str]:
    """What the API's realtime auth route answers (signed here: not under test)."""
    cfg = services.pusher
    signed = f"{socket_id}:{channel}".encode()
    return {"auth": f"{cfg.key}:{hmac.new(cfg.secret.encode(), signed, 'sha256').hexdigest()}"}


@pytest.fixture(scope="module")
async def run(services: Services, migrated: str) -> AsyncIterator[Run]:
    plan = {DOMAIN: PARTITIONS, VIEWS: PARTITIONS, REPLIES: 1}
    plan |= {dead_letter_topic(topic, GROUP_NAMES[group]): 1 for group, topic in PAIRS}
    await ensure_topics(services.kafka_bootstrap_servers, plan)
    sent, irrelevant = plan_records()
    redis = create_redis(services.redis_url)
    tags = TagCache(redis)
    for item in sent[DOMAIN]:  # a cached entry for the invalidator to clear
        token = item.next.token
        assert await tags.put(token, meta_key(token), 1, {"title": "old"}, 60_000, ["meta"])
    producer = AIOKafkaProducer(bootstrap_servers=services.kafka_bootstrap_servers)
    health: dict[str, str] = {}
    with ExitStack() as workers:
        for group, (module, extra) in WORKERS.items():
            port = free_port()
            env = {
                **services.env(),
                "DOMAIN_TOPIC": DOMAIN,
                "VIEWS_TOPIC": VIEWS,
                "HEALTH_PORT": str(port),
                "KAFKA_GROUP_PREFIX": PREFIX,
                **extra,
            }
            health[group] = f"http://127.0.0.1:{port}/healthz"
            args = [sys.executable, "-m", module]
            workers.enter_context(process(args, env, health[group], f"dlt-{group}-{port}"))
        await producer.start()
        try:
            async with socket(services) as s:
                # Pusher keeps nothing for later: subscribe before anything is produced.
                for item in [*sent[DOMAIN], *sent[VIEWS]]:
                    channel = private_channel(item.next.event_id)
                    ack = await s.subscribe(channel, channel_auth(services, s.socket_id, channel))
                    assert ack["event"] == "pusher_internal:subscription_succeeded", ack
                state = Run(redis, s, health, sent, irrelevant)
                await produce(producer, state)
                yield state
        finally:
            await producer.stop()
            await redis.aclose()


# ------------------------------------------------------------------- reading


async def read_all(
    bootstrap: str, topic: str, done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool]
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a (fresh, one-partition) topic, until ``done`` (or 30 s: then what
    there is, for the caller's assertion to show what is missing)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    got: list[ConsumerRecord[bytes, bytes]] = []
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                while not done(got):
                    for records in (await consumer.getmany(timeout_ms=200)).values():
                        got.extend(records)
    finally:
        await consumer.stop()
    return got


async def record_count(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets([TopicPartition(topic, 0)])).values())
    finally:
        await consumer.stop()


async def eventually(check: Callable[[], Any], what: str, timeout_s: float = 30) -> None:
    """Wait until the coroutine ``check()`` returns the empty list of what is missing."""
    missing: list[Any] = []
    try:
        async with asyncio.timeout(timeout_s):
            while missing := await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"{what}: still missing after {timeout_s} s: {missing}")


def processed_check(group: str, topic: str, run: Run) -> Callable[[], Any]:
    """The group's observable effect of every valid message on ``topic``."""
    follow_ups = [item.next for item in run.sent[topic]]
    views = ViewCache(run.redis, 1_000)

    async def view_buried() -> list[str]:  # no such event in PostgreSQL: a tombstone view
        missing = []
        for msg in [*follow_ups, *run.irrelevant]:
            data = await views.get(msg.token)
            if data is None or not is_tombstone(data) or version_of(data) != msg.version:
                missing.append(msg.token)
        return missing

    async def cache_cleared() -> list[str]:
        missing = []
        for msg in follow_ups:
            floor = int(await run.redis.get(floor_key(msg.token)) or 0)
            if floor != msg.version or await run.redis.exists(meta_key(msg.token)):
                missing.append(msg.token)
        return missing

    async def pushed() -> list[str]:
        name = "event.updated" if topic == DOMAIN else "view.updated"
        return [
            channel
            for msg in follow_ups
            if {"version": msg.version}
            not in run.socket.received(channel := private_channel(msg.event_id), name)
        ]

    return {
        AVAILABILITY_GROUP: view_buried,
        INVALIDATOR_GROUP: cache_cleared,
        NOTIFIER_GROUP: pushed,
    }[group]


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize(
    ("group", "topic"), PAIRS, ids=[f"{g}-on-{t.split('.')[2]}" for g, t in PAIRS]
)
async def test_bad_records_are_dead_lettered_and_the_next_message_is_processed(
    run: Run, services: Services, group: str, topic: str
) -> None:
    await eventually(processed_check(group, topic, run), f"{group}: valid messages on {topic}")

    expected = {item.key: item for item in run.sent[topic]}
    dlt = dead_letter_topic(topic, GROUP_NAMES[group])
    got = await read_all(
        services.kafka_bootstrap_servers,
        dlt,
        lambda records: expected.keys() <= {r.key for r in records},
    )
    by_key = {r.key: r for r in got}
    missing = [item.bad.name for key, item in expected.items() if key not in by_key]
    unexpected = [key for key in by_key if key not in expected]  # e.g. a valid message
    assert (missing, unexpected) == ([], []), f"{dlt}: only and all the bad records"
    for key, item in expected.items():
        record, bad = by_key[key], item.bad
        headers = {k: v for k, v in record.headers}
        assert record.value == bad.dead_lettered_value, bad.name
        assert bad.error in (headers.get("error") or b"").decode(), (bad.name, headers)
        assert headers.get("source-topic") == topic.encode(), bad.name
        assert headers.get("source-partition") == str(item.partition).encode(), bad.name
        assert headers.get("source-offset") == str(item.offset).encode(), bad.name
        if bad.value is not None and len(bad.value) > events.MAX_MESSAGE_BYTES:
            assert (
                headers.get("truncated-from") == f"key={len(key)} value={len(bad.value)}".encode()
            )

    assert await record_count(services.kafka_bootstrap_servers, REPLIES) == 0, "replied"
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(run.health[group])).status_code < 300
