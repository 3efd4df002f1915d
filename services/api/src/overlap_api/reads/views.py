"""The cached read path of ``GET /api/events/{token}``.

A hit is one Redis GET whose bytes are returned as they are. A miss (or a view older than
the reader's ``min_version``) is one SQL statement, a build, a compare-and-set write, then
the answer. Concurrent misses for one token share one recompute in this process (single
flight) and, across processes, wait briefly for the holder of a Redis lease to publish.
A miss reads the PostgreSQL replica when there is one; a read with ``min_version`` (a
writer reading its own write) reads the primary at once, since the replica may not have
replayed that write yet and reading both would rebuild twice (``replica``).
The Redis part of one read shares one deadline (``redis_gate``): when Redis fails or is
slow, the read is served from PostgreSQL and Redis is skipped for a moment.
A miss asks Redis once before it rebuilds (the view, or else the lease: ``ViewCache.lookup``)
and answers before its view is written back to Redis (``write_behind``). A writer reading
its own write is rebuilt from this process's own PUTs when they account for every version
since the aggregate it holds: no SQL (``writes.own_writes``).
"""

import asyncio
import time
from collections.abc import Awaitable

from overlap_shared.cache_keys import view_lease_key
from overlap_shared.eviction_channel import announce
from overlap_shared.viewcache import ViewCache, is_tombstone, version_of

from overlap_api.http.errors import EventNotFound
from overlap_api.reads.aggregates import MB, RecentAggregates
from overlap_api.reads.l1 import VersionedL1
from overlap_api.reads.metrics import L1_HITS, RECOMPUTES, count_lookup
from overlap_api.reads.redis_gate import RedisBudget, RedisGate
from overlap_api.reads.replica import miss_snapshot
from overlap_api.reads.write_behind import WriteBehind
from overlap_api.resources import Resources

LEASE_MS = 2_000
LEASE_WAIT_S = 0.25


class ViewReader:
    """The view's bytes: from process memory (``l1``), Redis, or built from PostgreSQL."""

    def __init__(self, resources: Resources, gate: RedisGate, l1: VersionedL1[bytes]) -> None:
        self.resources, self.gate, self._l1 = resources, gate, l1
        self.cache = ViewCache(resources.redis, resources.settings.cache_ttl_availability)
        self._flights: dict[str, asyncio.Future[bytes]] = {}
        self.write_behind = WriteBehind()
        settings = resources.settings
        budget = settings.view_aggregate_memory_mb * MB
        self.aggregates = RecentAggregates(budget, settings.retention_days)

    def local(self, token: str, min_version: int | None) -> bytes | None:
        """The view from process memory when it is there and new enough (no I/O)."""
        local = self._l1.get(token)
        if local is None or (min_version is not None and local[0] < min_version):
            return None
        L1_HITS.inc()
        return local[1]

    async def read(
        self, token: str, min_version: int | None, budget: RedisBudget | None = None
    ) -> bytes:
        """The view's bytes; ``budget`` is the read's Redis deadline when the caller's read
        began earlier (a session lookup), else this read takes one of its own."""
        local = self.local(token, min_version)
        if local is not None:
            return local
        budget = budget or self.gate.budget()
        found = await self.gate.call(self.cache.lookup(token, min_version or 0, LEASE_MS), budget)
        if isinstance(found, bytes):
            if is_tombstone(found):
                count_lookup("view", found=True)
                raise EventNotFound()
            if min_version is None or (version_of(found) or 0) >= min_version:
                count_lookup("view", found=True)
                return self._remember(token, found)
        count_lookup("view", found=False)
        view = await self._shared_recompute(token, budget, min_version, leased=found is True)
        if min_version is not None and (version_of(view) or 0) < min_version:
            # the shared flight began before the write, or read a replica behind it
            view = await self._recompute(token, budget, min_version, leased=False)
        return self._remember(token, view)

    async def bury(self, token: str, version: int) -> None:
        """The event was deleted at ``version``: answer 404 from now on, in every API process
        (the availability worker buries it too, once the domain event reaches it)."""
        self._l1.forget(token, version)
        await self.gate.call(self.cache.bury(token, version))
        await self.gate.call(announce(self.resources.redis, f"{token}:{version}"))

    def _remember(self, token: str, data: bytes) -> bytes:
        self._l1.put(token, version_of(data) or 0, data)
        return data

    async def _shared_recompute(
        self, token: str, budget: RedisBudget, min_version: int | None, *, leased: bool
    ) -> bytes:
        flight = self._flights.get(token)
        if flight is not None:
            if leased:  # this read took the lease, but this process is rebuilding already
                lease = self.resources.redis.delete(view_lease_key(token))
                await self.write_behind.run(lambda: self._release(lease, budget))
            return await asyncio.shield(flight)
        flight = asyncio.get_running_loop().create_future()
        flight.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._flights[token] = flight
        try:
            view = await self._across_processes(token, budget, min_version, leased=leased)
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

    async def _across_processes(
        self, token: str, budget: RedisBudget, min_version: int | None, *, leased: bool
    ) -> bytes:
        """With the lease (or without Redis), rebuild; else wait briefly for whoever holds
        it to publish the view."""
        if leased or budget.spent:
            return await self._recompute(token, budget, min_version, leased=leased)
        deadline = time.monotonic() + LEASE_WAIT_S
        while time.monotonic() < deadline and not budget.spent:
            await asyncio.sleep(0.01)
            data = await self.gate.call(self.cache.get(token), budget)
            if data is not None and not is_tombstone(data):
                return data
        return await self._recompute(token, budget, min_version, leased=False)

    async def _recompute(
        self, token: str, budget: RedisBudget, min_version: int | None, *, leased: bool
    ) -> bytes:
        """Build the view (from this process's own writes when they reach ``min_version``,
        else from PostgreSQL: the primary when there is a ``min_version``); store it in
        Redis (and release the lease when ``leased``) after the answer, in
        ``write_behind``."""
        RECOMPUTES.inc()
        try:
            version, data = await self._build(token, min_version)
        except BaseException:
            if leased:
                await self.gate.call(self.resources.redis.delete(view_lease_key(token)), budget)
            raise
        put = self.cache.put(token, version, data, release=leased)
        await self.write_behind.run(lambda: self._release(put, budget))
        return data

    async def _build(self, token: str, min_version: int | None) -> tuple[int, bytes]:
        if min_version:  # a writer reading its own write
            own = self.aggregates.advance(token, min_version, self.resources.own_writes)
            if own is not None:
                return own
        primary = min_version is not None
        event, people = await miss_snapshot(self.resources, token, primary=primary)
        return event.version, self.aggregates.render(event, people)

    async def _release(self, call: Awaitable[object], budget: RedisBudget) -> None:
        await self.gate.call(call, budget)
