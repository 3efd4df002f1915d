"""Redis client factory shared by the services."""

from redis.asyncio import Redis


def create_redis(url: str, *, timeout_s: float = 1.0) -> Redis:
    """A pooled client with short timeouts, so a dead Redis fails fast instead of hanging."""
    return Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
        max_connections=200,
    )
