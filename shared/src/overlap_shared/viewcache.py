"""The view cache in Redis: pre-serialized JSON bytes, written only when newer.

The stored value is exactly what ``GET /api/events/{token}`` answers: the bytes of
``serialize_view``, which start with ``{"version":N,``. A deleted event leaves a tombstone
``{"version":N,"deleted":true}`` so a slow writer holding an older snapshot cannot bring
the view back. Writes go through one Lua script: set only if the stored version is older.
"""

import re

from overlap_shared.cache_keys import view_key, view_lease_key
from overlap_shared.redis_client import RedisClient

_VERSION = re.compile(rb'^\{"version":(\d+)')
TOMBSTONE = b'{"version":%d,"deleted":true}'

# The scripts read the stored version from the first bytes (GETRANGE), not the whole value:
# a GET inside Lua copies the view (0.6 MB for the large event) into a Lua string.
# KEYS[1] view key, KEYS[2] (optional) a rebuild's lease to release; ARGV[1] version,
# ARGV[2] bytes, ARGV[3] ttl ms. Returns 1 when written.
_CAS = """
if KEYS[2] then redis.call('DEL', KEYS[2]) end
local head = redis.call('GETRANGE', KEYS[1], 0, 40)
if #head > 0 then
  local v = tonumber(string.match(head, '^{"version":(%d+)'))
  if v and v >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""

# KEYS[1] view key, KEYS[2] its lease; ARGV[1] the version a reader needs (0: any), ARGV[2]
# the lease's ms. Returns the stored bytes when they are at least that version or a
# tombstone (a reader that must rebuild does not first receive an older view); else takes
# the lease if it is free and returns 1, or 0 when another process holds it. One round
# trip for what a miss used to ask in two (the view, then the lease).
_LOOKUP = """
local head = redis.call('GETRANGE', KEYS[1], 0, 63)
if #head > 0 and #head < 64 then return head end
if #head > 0 then
  local v = tonumber(string.match(head, '^{"version":(%d+)'))
  if not v or v >= tonumber(ARGV[1]) then return redis.call('GET', KEYS[1]) end
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 1 end
return 0
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
        self._lookup = redis.register_script(_LOOKUP)

    async def get(self, token: str) -> bytes | None:
        data = await self.redis.get(view_key(token))
        return data if isinstance(data, bytes) or data is None else data.encode()

    async def lookup(self, token: str, version: int, lease_ms: int) -> bytes | bool:
        """The stored view if it is at ``version`` or newer (or a tombstone); else whether
        this caller took the rebuild's lease (True) or another holds it (False)."""
        found = await self._lookup(keys=[view_key(token), view_lease_key(token)],
                                   args=[version, lease_ms])  # fmt: skip
        if isinstance(found, int):
            return bool(found)
        return found if isinstance(found, bytes) else found.encode()

    async def put(self, token: str, version: int, data: bytes, *, release: bool = False) -> bool:
        """Store ``data`` (the view at ``version``) unless a newer one is there; ``release``:
        and release the rebuild's lease in the same round trip."""
        keys = [view_key(token), view_lease_key(token)] if release else [view_key(token)]
        written = await self._cas(keys=keys, args=[version, data, self.ttl_ms])
        return bool(written)

    async def bury(self, token: str, version: int) -> bool:
        """Mark the event deleted at ``version`` (kept for the TTL)."""
        return await self.put(token, version, TOMBSTONE % version)
