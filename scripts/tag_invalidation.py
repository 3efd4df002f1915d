"""How long the invalidator takes to clear one tag of many keys (closing-note figure).

Writes N tagged cache entries for one event (as the API's session cache does), then times
``TagCache.invalidate`` (SUNION of the tag, pipelined UNLINK in batches of 500) and checks
that every entry is gone. Uses Redis database 15 of REDIS_URL's server by default.

    python scripts/tag_invalidation.py --keys 10000 --runs 5
"""

import argparse
import asyncio
import statistics
import time
import uuid

from overlap_shared.cache_keys import session_key
from overlap_shared.redis_client import create_redis
from overlap_shared.tagcache import TagCache


async def one_run(url: str, n: int) -> float:
    redis = create_redis(url, timeout_s=10)
    cache = TagCache(redis)
    token = uuid.uuid4().hex
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(n):
                key = session_key(token, f"{i:064x}")
                pipe.set(key, b'{"participant_id":"x","version":1}', px=600_000)
                pipe.sadd(f"ov:{{{token}}}:tag:sessions", key)
            await pipe.execute()
        started = time.perf_counter()
        removed = await cache.invalidate(token, 2, ["sessions"], 600_000)
        elapsed = time.perf_counter() - started
        assert removed == n + 1, removed  # the entries and the tag set itself
        assert await redis.exists(session_key(token, f"{0:064x}")) == 0
        await redis.unlink(f"ov:{{{token}}}:floor")
        return elapsed * 1000
    finally:
        await redis.aclose()


async def main(url: str, n: int, runs: int) -> None:
    times = [await one_run(url, n) for _ in range(runs)]
    print(
        f"invalidate a tag of {n} keys: median {statistics.median(times):.1f} ms "
        f"(min {min(times):.1f}, max {max(times):.1f}, {runs} runs)"
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    p.add_argument("--keys", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    asyncio.run(main(a.redis, a.keys, a.runs))
