"""``GET /api/performance/monitor``: the figures the user's guide asks operators to watch."""

import asyncio
import hmac
from typing import Annotated, Any, Protocol

from aiokafka import AIOKafkaConsumer, OffsetAndMetadata, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Header
from overlap_shared.cache_keys import notifier_stats_key
from sqlalchemy import text

from overlap_api.http.deps import MonitorDep, ResourcesDep
from overlap_api.http.errors import Forbidden, KeyRequired
from overlap_api.reads.metrics import cache_figures
from overlap_api.reads.replica import replica_lag
from overlap_api.resources import Resources

router = APIRouter(tags=["operations"])


async def _outbox(resources: Resources) -> dict[str, float]:
    query = text(
        "select count(*), coalesce(extract(epoch from now() - min(created_at)), 0) from outbox"
    )
    async with resources.reading() as conn:
        backlog, age = (await conn.execute(query)).one()
    return {"backlog": int(backlog), "oldest_age_ms": round(float(age) * 1000, 1)}


async def _consumer_lag(resources: Resources) -> dict[str, dict[str, Any]]:
    settings = resources.settings
    topics = {settings.domain_topic, settings.views_topic}
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        committed = {
            group: await committed_offsets(admin, group, topics)
            for group in settings.consumer_groups().values()
        }
    finally:
        await admin.close()
    ends = await _end_offsets(resources, [tp for c in committed.values() for tp in c])
    return {group: group_lag(offsets, ends) for group, offsets in committed.items()}


def group_lag(
    committed: dict[TopicPartition, int], ends: dict[TopicPartition, int]
) -> dict[str, int]:
    """A group's lag: records past its committed offset, summed over its partitions (pure)."""
    lag = sum(max(0, ends.get(tp, 0) - offset) for tp, offset in committed.items())
    return {"lag": lag, "partitions": len(committed)}


class OffsetsAdmin(Protocol):
    """What :func:`committed_offsets` needs of Kafka's admin client."""

    async def list_consumer_group_offsets(
        self, group_id: str
    ) -> dict[TopicPartition, OffsetAndMetadata]: ...


async def committed_offsets(
    admin: OffsetsAdmin, group: str, topics: set[str]
) -> dict[TopicPartition, int]:
    """The group's committed offsets on ``topics``. A retriable answer is asked again (the
    caller bounds the time): a fresh broker creates its offsets topic on the first
    FindCoordinator and answers COORDINATOR_NOT_AVAILABLE until it has."""
    backoff_s = 0.05
    while True:
        try:
            offsets = await admin.list_consumer_group_offsets(group)
        except KafkaError as exc:
            if not exc.retriable:
                raise
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, 0.5)
            continue
        return {tp: meta.offset for tp, meta in offsets.items() if tp.topic in topics}


async def _end_offsets(
    resources: Resources, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    if not partitions:
        return {}

    consumer = AIOKafkaConsumer(bootstrap_servers=resources.settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def _notifier(resources: Resources) -> dict[str, float]:
    stats = await resources.redis.hgetall(notifier_stats_key())
    calls = int(stats.get(b"calls", 0))
    sent = int(stats.get(b"events", 0))
    return {
        "calls": calls,
        "events": sent,
        "events_per_call": round(sent / calls, 3) if calls else 0.0,
    }


async def _safely(name: str, call: Any) -> Any:
    try:
        async with asyncio.timeout(3):
            return await call
    except Exception as exc:  # the monitor reports what it could not read instead of failing
        return {"error": f"{name}: {type(exc).__name__}: {exc}"[:200]}


@router.get(
    "/api/performance/monitor",
    summary="Performance figures (operator)",
    responses={401: {"description": "operator key missing"}, 403: {"description": "wrong key"}},
)
async def monitor(
    resources: ResourcesDep,
    monitor_state: MonitorDep,
    x_operator_key: Annotated[str | None, Header(max_length=256)] = None,
) -> dict[str, Any]:
    if not x_operator_key:
        raise KeyRequired("this route needs the X-Operator-Key header")
    if not hmac.compare_digest(x_operator_key.encode(), resources.settings.operator_key.encode()):
        raise Forbidden("X-Operator-Key is not the operator key")
    outbox, consumers, notifier, replica = await asyncio.gather(
        _safely("outbox", _outbox(resources)),
        _safely("consumers", _consumer_lag(resources)),
        _safely("notifier", _notifier(resources)),
        _safely("replica", replica_lag(resources)),
    )
    return {
        "monitoring_enabled": resources.settings.enable_performance_monitoring,
        "routes": monitor_state.routes(),
        "caches": cache_figures(),
        "sql_per_request": monitor_state.sql_per_request(),
        "outbox": outbox,
        "consumers": consumers,
        "notifier": notifier,
        "replica": replica,
    }
