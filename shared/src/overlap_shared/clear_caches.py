"""Operator command: clear every cache Overlap owns (the user's rollback step "clear all
caches"). ``python -m overlap_shared.clear_caches``: SCAN + pipelined UNLINK of ``ov:*``
keys only (on a Redis Cluster: on every primary); other keys in the same Redis are left
alone, and ``KEYS`` is never issued."""

import asyncio

from overlap_shared.redis_client import create_redis
from overlap_shared.settings import ServiceSettings
from overlap_shared.tagcache import clear_all


async def main_async() -> int:
    settings = ServiceSettings()
    redis = create_redis(settings.redis_url, cluster=settings.redis_cluster, timeout_s=10)
    try:
        return await clear_all(redis)
    finally:
        await redis.aclose()


def main() -> None:
    print(f"cleared {asyncio.run(main_async())} keys")


if __name__ == "__main__":
    main()
