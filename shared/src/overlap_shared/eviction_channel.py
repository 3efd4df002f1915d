"""The L1 eviction channel (``L1_CHANNEL``): how a writer or worker tells every API process
to forget its in-process copy of an event's view or metadata.

On one Redis it is classic pub/sub (PUBLISH / SUBSCRIBE). On a Redis Cluster it is sharded
pub/sub (SPUBLISH / SSUBSCRIBE, Redis 7): the channel hashes to one slot, and a message
goes to that slot's shard only, where classic PUBLISH on a cluster is broadcast over the
cluster bus to every node. Either way the channel lives on one node: while that node is
down the API's L1s are emptied and bypassed (see ``overlap_api.reads.l1_channel``), so
nothing stale is served, only fewer L1 hits.
"""

from collections.abc import AsyncGenerator, Awaitable

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline

from overlap_shared.cache_keys import L1_CHANNEL
from overlap_shared.redis_client import RedisClient

POLL_S = 1.0


def announce(redis: RedisClient, message: str) -> Awaitable[int]:
    """Publish ``message`` (``<token>`` or ``<token>:<version>``) on the channel."""
    if isinstance(redis, RedisCluster):
        return redis.spublish(L1_CHANNEL, message)
    return redis.publish(L1_CHANNEL, message)


def queue_announce(pipe: Pipeline | ClusterPipeline, message: str) -> None:
    """:func:`announce` as one more command of a pipeline."""
    if isinstance(pipe, ClusterPipeline):
        pipe.spublish(L1_CHANNEL, message)
    else:
        pipe.publish(L1_CHANNEL, message)


def messages(redis: RedisClient) -> AsyncGenerator[bytes]:
    """Every message of the channel from now on; raises when the channel is lost."""
    if isinstance(redis, RedisCluster):
        return _sharded(redis)
    return _classic(redis)


async def _sharded(redis: RedisCluster) -> AsyncGenerator[bytes]:
    await redis.initialize()  # the slot map: which node holds the channel (no-op once known)
    pubsub = redis.pubsub()
    try:
        await pubsub.ssubscribe(L1_CHANNEL)
        while True:
            message = await pubsub.get_sharded_message(
                ignore_subscribe_messages=True, timeout=POLL_S
            )
            if message is not None and message["type"] == "smessage":
                yield message["data"]
    finally:
        await pubsub.aclose()


async def _classic(redis: Redis) -> AsyncGenerator[bytes]:
    pubsub = redis.pubsub()
    try:
        await pubsub.subscribe(L1_CHANNEL)
        async for message in pubsub.listen():
            if message["type"] == "message":
                yield message["data"]
    finally:
        await pubsub.aclose()
