"""The view cache in Redis: pre-serialized JSON bytes, written only when newer.

The stored value is exactly what ``GET /api/events/{token}`` answers: the bytes of
``serialize_view``, which start with ``{"version":N,``. A deleted event leaves a tombstone
``{"version":N,"deleted":true}`` so a slow writer holding an older snapshot cannot bring
the view back. Writes go through one Lua script: set only if the stored version is older.
"""

import re

from overlap_shared.cache_keys import view_key
from overlap_shared.redis_client import RedisClient

_VERSION = re.compile(rb'^\{"version":(\d+)')
TOMBSTONE = b'{"version":%d,"deleted":true}'

# KEYS[1] view key; ARGV[1] version, ARGV[2] bytes, ARGV[3] ttl ms. Returns 1 when written.
_CAS = """
local current = redis.call('GET', KEYS[1])
if current then
  local v = tonumber(string.match(current, '^{"version":(%d+)'))
  if v and v >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


# KEYS[1] view key; ARGV[1] the version a reader needs. Returns the stored bytes when they
# are at least that version or a tombstone, else nothing: a reader that must rebuild does
# not first receive the whole older view (0.6 MB for the large event).
_AT_LEAST = """
local current = redis.call('GET', KEYS[1])
if not current or #current < 64 then return current end
local v = tonumber(string.match(current, '^{"version":(%d+)'))
if v and v < tonumber(ARGV[1]) then return false end
return current
"""


def version_of(data: bytes) -> int | None:
    match = _VERSION.match(data)
    return int(match.group(1)) if match else None


def is_tombstone(data: bytes) -> bool:
    return data.endswith(b',"deleted":true}') and len(data) < 64


class ViewCache:
    def __init__(self, redis: RedisClient, ttl_ms: int) -> None:
        self.redis, self.ttl_ms = redis, ttl_ms
        self._cas = redis.register_script(_CAS)
        self._at_least = redis.register_script(_AT_LEAST)

    async def get(self, token: str) -> bytes | None:
        data = await self.redis.get(view_key(token))
        return data if isinstance(data, bytes) or data is None else data.encode()

    async def get_at_least(self, token: str, version: int) -> bytes | None:
        """The stored view if it is at ``version`` or newer (or a tombstone), else None."""
        data = await self._at_least(keys=[view_key(token)], args=[version])
        return data if isinstance(data, bytes) or data is None else data.encode()

    async def put(self, token: str, version: int, data: bytes) -> bool:
        """Store ``data`` (the view at ``version``) unless a newer one is there."""
        written = await self._cas(keys=[view_key(token)], args=[version, data, self.ttl_ms])
        return bool(written)

    async def bury(self, token: str, version: int) -> bool:
        """Mark the event deleted at ``version`` (kept for the TTL)."""
        return await self.put(token, version, TOMBSTONE % version)
