"""The cached read path of ``GET /api/events/{token}``.

A hit is one Redis GET whose bytes are returned as they are. A miss (or a view older than
the reader's ``min_version``) is one SQL statement, a build, a compare-and-set write, then
the answer. Concurrent misses for one token share one recompute in this process (single
flight) and, across processes, wait briefly for the holder of a Redis lease to publish.
When Redis fails, reads are served from PostgreSQL and Redis is skipped for a moment.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import TypeVar

from overlap_shared.cache_keys import L1_CHANNEL, view_lease_key
from overlap_shared.view import build_view, serialize_view
from overlap_shared.viewcache import ViewCache, is_tombstone, version_of
from prometheus_client import Counter
from redis.exceptions import RedisError

from overlap_api.errors import EventNotFound
from overlap_api.l1 import VersionedL1
from overlap_api.reads import snapshot
from overlap_api.resources import Resources

log = logging.getLogger(__name__)
T = TypeVar("T")

CACHE_HITS = Counter("cache_hits_total", "Cache hits", ["cache"])
CACHE_MISSES = Counter("cache_misses_total", "Cache misses", ["cache"])
RECOMPUTES = Counter("view_recomputes_total", "Views built from PostgreSQL by the API")
REDIS_ERRORS = Counter("redis_errors_total", "Redis calls that failed (served without cache)")

L1_HITS = CACHE_HITS.labels("view_l1")
# Views stay in process memory this long at most; a newer version announced on the L1
# channel evicts them at once, so the TTL only bounds staleness if a message is lost.
L1_TTL_S = 2.0
L1_MAX = 10_000
LEASE_MS = 2_000
LEASE_WAIT_S = 0.25
REDIS_BACKOFF_S = 2.0
GONE = "no event has this link (it may have been deleted)"


class ViewReader:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.cache = ViewCache(resources.redis, resources.settings.cache_ttl_availability)
        self._flights: dict[str, asyncio.Future[bytes]] = {}
        self._redis_skip_until = 0.0
        self.l1 = VersionedL1(L1_TTL_S, L1_MAX)

    async def read(self, token: str, min_version: int | None) -> bytes:
        local = self.l1.get(token)
        if local is not None and (min_version is None or local[0] >= min_version):
            L1_HITS.inc()
            return local[1]
        data = await self._redis(self.cache.get(token))
        if data is not None:
            if is_tombstone(data):
                CACHE_HITS.labels("view").inc()
                raise EventNotFound(GONE)
            if min_version is None or (version_of(data) or 0) >= min_version:
                CACHE_HITS.labels("view").inc()
                return self._remember(token, data)
        CACHE_MISSES.labels("view").inc()
        view = await self._shared_recompute(token)
        if min_version is not None and (version_of(view) or 0) < min_version:
            view = await self._recompute(token)  # the shared flight started before the write
        return self._remember(token, view)

    async def bury(self, token: str, version: int) -> None:
        """The event was deleted at ``version``: answer 404 from now on, in every API process
        (the availability worker buries it too, once the domain event reaches it)."""
        self.l1.forget(token, version)
        await self._redis(self.cache.bury(token, version))
        await self._redis(self.resources.redis.publish(L1_CHANNEL, f"{token}:{version}"))

    def _remember(self, token: str, data: bytes) -> bytes:
        self.l1.put(token, version_of(data) or 0, data)
        return data

    async def _shared_recompute(self, token: str) -> bytes:
        flight = self._flights.get(token)
        if flight is not None:
            return await asyncio.shield(flight)
        flight = asyncio.get_running_loop().create_future()
        flight.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._flights[token] = flight
        try:
            view = await self._across_processes(token)
            flight.set_result(view)
            return view
        except asyncio.CancelledError:  # this request gave up: the others must not inherit it
            flight.set_exception(TimeoutError(f"the read computing view {token} was cancelled"))
            raise
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        finally:
            del self._flights[token]

    async def _across_processes(self, token: str) -> bytes:
        """Take the lease, or wait briefly for whoever holds it to publish the view."""
        lease = view_lease_key(token)
        if await self._redis(self.resources.redis.set(lease, b"1", nx=True, px=LEASE_MS)):
            try:
                return await self._recompute(token)
            finally:
                await self._redis(self.resources.redis.delete(lease))
        deadline = time.monotonic() + LEASE_WAIT_S
        while time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            data = await self._redis(self.cache.get(token))
            if data is not None and not is_tombstone(data):
                return data
        return await self._recompute(token)

    async def _recompute(self, token: str) -> bytes:
        RECOMPUTES.inc()
        async with self.resources.reading() as conn:
            event, people = await snapshot(conn, token)
        data = serialize_view(
            build_view(event, people, retention_days=self.resources.settings.retention_days)
        )
        await self._redis(self.cache.put(token, event.version, data))
        return data

    async def _redis(self, call: Awaitable[T]) -> T | None:
        """Await a Redis call; on failure (or while backing off) answer None."""
        if time.monotonic() < self._redis_skip_until:
            if asyncio.iscoroutine(call):
                call.close()
            return None
        try:
            return await call
        except (RedisError, OSError) as exc:
            REDIS_ERRORS.inc()
            self._redis_skip_until = time.monotonic() + REDIS_BACKOFF_S
            log.warning(
                "redis unavailable, serving from PostgreSQL for %.0fs: %s", REDIS_BACKOFF_S, exc
            )
            return None
