"""Every Lua script and multi-key command Overlap sends touches one Redis Cluster slot: the
keys of one event share its hash tag, and so do the keys of one user."""

import uuid

from hypothesis import given
from hypothesis import strategies as st
from overlap_shared import cache_keys
from overlap_shared.redis_client import create_redis
from redis.asyncio import RedisCluster
from redis.crc import key_slot

URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
tokens = st.text(alphabet=URL_SAFE, min_size=22, max_size=43)


@given(tokens, st.text(min_size=1, max_size=20), st.binary(min_size=32, max_size=32))
def test_the_keys_of_one_event_share_a_slot(token: str, tag: str, digest: bytes) -> None:
    keys = [
        cache_keys.view_key(token),
        cache_keys.view_lease_key(token),
        cache_keys.floor_key(token),
        cache_keys.tag_key(token, tag),
        cache_keys.session_key(token, digest.hex()),
        cache_keys.meta_key(token),
    ]
    assert len({key_slot(k.encode()) for k in keys}) == 1


@given(st.uuids(), st.text(min_size=1, max_size=20))
def test_the_keys_of_one_user_share_a_slot(user: uuid.UUID, page: str) -> None:
    keys = [cache_keys.user_page_key(str(user), page), cache_keys.user_tag_key(str(user))]
    assert len({key_slot(k.encode()) for k in keys}) == 1


def test_events_spread_over_the_slots() -> None:
    slots = {key_slot(cache_keys.view_key(uuid.uuid4().hex).encode()) for _ in range(200)}
    assert len(slots) > 150  # the tag is the token, not a shared prefix


async def test_the_factory_makes_a_cluster_client_when_told() -> None:
    cluster, single = create_redis("redis://127.0.0.1:7000", cluster=True), create_redis("redis://")
    assert isinstance(cluster, RedisCluster)
    assert not isinstance(single, RedisCluster)
    await cluster.aclose()
    await single.aclose()
