"""Redis client factory shared by the services."""

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

MAX_CONNECTIONS = 100


def create_redis(url: str, *, timeout_s: float = 1.0) -> Redis:
    """A pooled client with short timeouts, so a dead Redis fails fast instead of hanging.

    The pool blocks (up to ``timeout_s``) when all its connections are busy rather than
    failing at once: a burst of requests waits its turn instead of looking like an outage.
    A command that finds its pooled connection closed (Redis restarted) is retried once on
    a new connection.
    """
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
