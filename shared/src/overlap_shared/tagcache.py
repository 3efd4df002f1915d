"""Tagged, versioned cache entries in Redis, and their invalidation.

Every entry belongs to one event (hash tag ``{token}``) and carries the event version it
was read at. Invalidating a tag raises the event's *floor* version and UNLINKs the tag's
members in pipelined batches; a writer holding data older than the floor (a read that
raced the change) is refused, so caches converge on PostgreSQL. ``KEYS`` is never used:
tags list their members, and clearing everything walks ``SCAN`` (every primary of a Redis
Cluster). Each script and multi-key command touches one event's keys (or one user's), so
one Cluster slot; work over many events or users is pipelined one command per slot.
"""

from collections.abc import Iterable

import orjson

from overlap_shared.cache_keys import (
    ALL_KEYS_PATTERN,
    floor_key,
    tag_key,
    user_page_key,
    user_tag_key,
)
from overlap_shared.redis_client import RedisClient

UNLINK_BATCH = 500

# KEYS: entry, floor, tag sets...  ARGV: version, value, ttl ms
_PUT = """
local floor = tonumber(redis.call('GET', KEYS[2]) or '0')
if floor > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
return 1
"""
# KEYS: floor  ARGV: version, ttl ms
_RAISE_FLOOR = """
local floor = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > floor then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
"""


class TagCache:
    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis
        self._put = redis.register_script(_PUT)
        self._raise_floor = redis.register_script(_RAISE_FLOOR)

    async def get(self, key: str) -> object | None:
        raw = await self.redis.get(key)
        return None if raw is None else orjson.loads(raw)

    async def put(
        self, token: str, key: str, version: int, value: object, ttl_ms: int, tags: Iterable[str]
    ) -> bool:
        keys = [key, floor_key(token), *(tag_key(token, t) for t in tags)]
        return bool(await self._put(keys=keys, args=[version, orjson.dumps(value), ttl_ms]))

    async def put_user_page(
        self, user_id: str, page: str, value: object, ttl_ms: int, tokens: Iterable[str]
    ) -> None:
        """Cache a "my events" page, tagged by its user and by every event it lists."""
        key = user_page_key(user_id, page)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(key, orjson.dumps(value), px=ttl_ms)
            for tag in [user_tag_key(user_id), *(tag_key(t, "users") for t in tokens)]:
                pipe.sadd(tag, key)
                pipe.pexpire(tag, ttl_ms)
            await pipe.execute()

    async def invalidate_users(self, user_ids: Iterable[str]) -> int:
        sets = [user_tag_key(u) for u in user_ids]
        if not sets:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for tag in sets:  # one user per slot: no SUNION across them
                pipe.smembers(tag)
            found = await pipe.execute()
        members = [m for pages in found for m in pages]
        return await unlink_all(self.redis, [_name(m) for m in members] + sets)

    async def invalidate(
        self, token: str, version: int, tags: Iterable[str], floor_ttl_ms: int
    ) -> int:
        """Refuse entries older than ``version`` and unlink the tags' members; returns count."""
        await self._raise_floor(keys=[floor_key(token)], args=[version, floor_ttl_ms])
        sets = [tag_key(token, t) for t in tags]
        if not sets:
            return 0
        members = await self.redis.sunion(sets)
        return await unlink_all(self.redis, [_name(m) for m in members] + sets)


def _name(member: bytes | str) -> str:
    return member.decode() if isinstance(member, bytes) else member


async def unlink_all(redis: RedisClient, names: list[str]) -> int:
    """UNLINK ``names``, a batch per command (a cluster client splits each batch by slot
    and pipelines the parts per node); returns how many existed."""
    removed = 0
    for start in range(0, len(names), UNLINK_BATCH):
        removed += await redis.unlink(*names[start : start + UNLINK_BATCH])
    return removed


async def clear_all(redis: RedisClient, pattern: str = ALL_KEYS_PATTERN) -> int:
    """Remove every key Overlap owns (SCAN + pipelined UNLINK), leaving other keys alone."""
    removed, batch = 0, []
    async for name in redis.scan_iter(match=pattern, count=1000):
        batch.append(name)
        if len(batch) >= UNLINK_BATCH:
            removed += await unlink_all(redis, batch)
            batch = []
    return removed + (await unlink_all(redis, batch) if batch else 0)


async def invalidate_many(
    redis: RedisClient, work: dict[str, tuple[int, list[str]]], floor_ttl_ms: int
) -> int:
    """:meth:`TagCache.invalidate` for many events at once, ``token -> (version, tags)``:
    one pipelined round trip raises the floors and reads the tags, a second unlinks the
    members and their tags, only when a tag had any (an empty set is no key in Redis).
    Each command names one key (a cluster pipeline refuses multi-key ones such as SUNION)."""
    if not work:
        return 0
    sets = [tag_key(token, t) for token, (_, tags) in work.items() for t in tags]
    async with redis.pipeline(transaction=False) as pipe:
        for token, (version, _) in work.items():  # EVAL: no SCRIPT EXISTS round trip
            pipe.eval(_RAISE_FLOOR, 1, floor_key(token), version, floor_ttl_ms)
        for tag in sets:
            pipe.smembers(tag)
        replies = await pipe.execute()
    found = replies[len(work) :]
    members = {_name(m) for pages in found for m in pages}
    names = [*members, *(tag for tag, pages in zip(sets, found, strict=True) if pages)]
    return await unlink_all(redis, names) if names else 0
