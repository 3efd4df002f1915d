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
"""

import asyncio
import time

from overlap_shared.cache_keys import view_lease_key
from overlap_shared.eviction_channel import announce
from overlap_shared.view import render_view
from overlap_shared.viewcache import ViewCache, is_tombstone, version_of

from overlap_api.http.errors import EventNotFound
from overlap_api.reads.l1 import VersionedL1
from overlap_api.reads.metrics import L1_HITS, RECOMPUTES, count_lookup
from overlap_api.reads.redis_gate import RedisBudget, RedisGate
from overlap_api.reads.replica import miss_snapshot
from overlap_api.resources import Resources

LEASE_MS = 2_000
LEASE_WAIT_S = 0.25


class ViewReader:
    """The view's bytes: from process memory (``l1``), Redis, or built from PostgreSQL."""

    def __init__(self, resources: Resources, gate: RedisGate, l1: VersionedL1[bytes]) -> None:
        self.resources, self.gate, self._l1 = resources, gate, l1
        self.cache = ViewCache(resources.redis, resources.settings.cache_ttl_availability)
        self._flights: dict[str, asyncio.Future[bytes]] = {}

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
        if min_version is None:
            data = await self.gate.call(self.cache.get(token), budget)
        else:  # an older view would be thrown away: Redis keeps it
            data = await self.gate.call(self.cache.get_at_least(token, min_version), budget)
        if data is not None:
            if is_tombstone(data):
                count_lookup("view", found=True)
                raise EventNotFound()
            if min_version is None or (version_of(data) or 0) >= min_version:
                count_lookup("view", found=True)
                return self._remember(token, data)
        count_lookup("view", found=False)
        view = await self._shared_recompute(token, budget, primary=min_version is not None)
        if min_version is not None and (version_of(view) or 0) < min_version:
            # the shared flight began before the write, or read a replica behind it
            view = await self._recompute(token, budget, primary=True)
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

    async def _shared_recompute(self, token: str, budget: RedisBudget, *, primary: bool) -> bytes:
        flight = self._flights.get(token)
        if flight is not None:
            return await asyncio.shield(flight)
        flight = asyncio.get_running_loop().create_future()
        flight.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._flights[token] = flight
        try:
            view = await self._across_processes(token, budget, primary=primary)
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

    async def _across_processes(self, token: str, budget: RedisBudget, *, primary: bool) -> bytes:
        """Take the lease, or wait briefly for whoever holds it to publish the view."""
        lease = view_lease_key(token)
        taken = self.resources.redis.set(lease, b"1", nx=True, px=LEASE_MS)
        if await self.gate.call(taken, budget) or budget.spent:
            try:
                return await self._recompute(token, budget, primary=primary)
            finally:
                await self.gate.call(self.resources.redis.delete(lease), budget)
        deadline = time.monotonic() + LEASE_WAIT_S
        while time.monotonic() < deadline and not budget.spent:
            await asyncio.sleep(0.01)
            data = await self.gate.call(self.cache.get(token), budget)
            if data is not None and not is_tombstone(data):
                return data
        return await self._recompute(token, budget, primary=primary)

    async def _recompute(self, token: str, budget: RedisBudget, *, primary: bool = False) -> bytes:
        RECOMPUTES.inc()
        event, people = await miss_snapshot(self.resources, token, primary=primary)
        data = render_view(event, people, retention_days=self.resources.settings.retention_days)
        await self.gate.call(self.cache.put(token, event.version, data), budget)
        return data
