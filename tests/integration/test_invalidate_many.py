"""``tagcache.invalidate_many`` on the real Redis: floors raised, tagged entries cleared,
and no second round trip when no tag held anything (the common write at a low rate)."""

import uuid
from collections.abc import AsyncIterator

import pytest
from overlap_shared.cache_keys import floor_key, meta_key, tag_key
from overlap_shared.redis_client import RedisClient, create_redis
from overlap_shared.tagcache import TagCache, invalidate_many

from tests.conftest import Services


@pytest.fixture
async def redis(services: Services) -> AsyncIterator[RedisClient]:
    client = create_redis(services.redis_url)
    yield client
    await client.aclose()


async def unlinks(redis: RedisClient) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_unlink", {}).get("calls", 0))


async def test_untagged_events_cost_one_round_trip(redis: RedisClient) -> None:
    tokens = [uuid.uuid4().hex for _ in range(3)]
    before = await unlinks(redis)
    work = {t: (5, ["meta", "participants"]) for t in tokens}
    assert await invalidate_many(redis, work, 60_000) == 0
    assert await unlinks(redis) == before  # nothing was tagged: no UNLINK sent
    for token in tokens:
        assert int(await redis.get(floor_key(token)) or 0) == 5


async def test_tagged_entries_and_their_tags_are_cleared(redis: RedisClient) -> None:
    token, other = uuid.uuid4().hex, uuid.uuid4().hex
    tags = TagCache(redis)
    assert await tags.put(token, meta_key(token), 1, {"title": "old"}, 60_000, ["meta"])
    before = await unlinks(redis)
    work = {token: (2, ["meta", "participants"]), other: (2, ["meta"])}
    assert await invalidate_many(redis, work, 60_000) == 2  # the entry and its tag
    assert await unlinks(redis) == before + 1
    assert not await redis.exists(meta_key(token), tag_key(token, "meta"))
