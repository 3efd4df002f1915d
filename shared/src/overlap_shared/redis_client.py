"""Redis client factory shared by the services: one Redis, or a Redis Cluster.

``REDIS_CLUSTER=true`` (``ServiceSettings.redis_cluster``) makes every service talk to a
Redis Cluster through redis-py's ``RedisCluster``; ``REDIS_URL`` then names any one node
(the client discovers the others with ``CLUSTER SLOTS``) and has no database number.
Everything Overlap sends works on both: each Lua script and each multi-key command touches
the keys of one event, which share a hash tag (``cache_keys``), so one slot.
"""

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

MAX_CONNECTIONS = 100
# The cluster client keeps a plain pool per node, which fails a burst past its size rather
# than making it wait (BlockingConnectionPool has no cluster form): the API's admission
# limits (MAX_READS_IN_FLIGHT + MAX_WRITES_IN_FLIGHT, 768 by default) stay below this.
CLUSTER_MAX_CONNECTIONS_PER_NODE = 1_000

RedisClient = Redis | RedisCluster


def create_redis(url: str, *, cluster: bool = False, timeout_s: float = 1.0) -> RedisClient:
    """A pooled client with short timeouts, so a dead Redis fails fast instead of hanging.

    The pool blocks (up to ``timeout_s``) when all its connections are busy rather than
    failing at once: a burst of requests waits its turn instead of looking like an outage.
    A command that finds its pooled connection closed (Redis restarted) is retried once on
    a new connection. With ``cluster`` the client is a ``RedisCluster`` (see the module).
    """
    if cluster:
        return _create_cluster(url, timeout_s)
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=timeout_s,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    return Redis.from_pool(pool)


def _create_cluster(url: str, timeout_s: float) -> RedisCluster:
    """A cluster client that, like the single one, tries a lost node once more and fails.

    ``require_full_coverage=False``: while one primary is down the others keep answering
    for their slots (the nodes run with ``cluster-require-full-coverage no``); a read of a
    key on the lost primary fails fast and is served from PostgreSQL.
    """
    return RedisCluster.from_url(
        url,
        max_connections=CLUSTER_MAX_CONNECTIONS_PER_NODE,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1),
        require_full_coverage=False,
    )


async def ping_every_node(redis: RedisClient) -> None:
    """Raise unless Redis answers: on a cluster, every primary (a worker's probe: a batch
    that failed while one primary is down is an outage, not a poison message)."""
    if isinstance(redis, RedisCluster):
        await redis.ping(target_nodes=RedisCluster.PRIMARIES)
    else:
        await redis.ping()
